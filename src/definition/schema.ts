/**
 * The shape of `baton.yaml`. The schema is the documentation: every field carries its
 * description, default and an example, which the editor JSON Schema (`baton schema`) and the
 * error hints are generated from. It validates the YAML as written (durations stay strings
 * such as "10s"); build.ts turns the validated text into the model's numbers.
 *
 * Rules that span several fields or touch the file system (ports shared by two apps, probe
 * kinds, cwd on disk, `${VAR}` syntax, name rules) are in checks.ts, so that one bad app
 * does not hide the other apps' problems.
 */
import { isIP } from "node:net";
import { z } from "zod";
import { policySchema } from "../security/policy/schema.js";
import { alertingSchema, alertsSchema, notifiersSchema } from "./alert-schema.js";
import {
  configureSchema,
  environmentHostFields,
  hostsSchema,
  paritySchema,
  rolesSchema,
  sshSchema,
} from "./host-schema.js";
import { metricsSchema } from "./metrics-schema.js";
import { APP_NAME_PATTERN, ENV_NAME_PATTERN } from "./names.js";
import { pipelinesSchema } from "./pipeline-schema.js";
import {
  argv,
  documented,
  duration,
  secretReference,
  size,
  unquoteNumber,
  wholeNumber,
} from "./schema-fields.js";

export { type FieldDoc, fieldDocs } from "./schema-fields.js";

/** Top-level keys starting `x-` are ignored: a home for YAML anchors, as in Compose files. */
export const EXTENSION_KEY_PATTERN = /^x-/;

/** Where replicas run; an app's `runtime`, or its environment's. */
export const RUNTIMES = ["process", "docker", "swarm"] as const;

/**
 * Defaults, in one place because the descriptions quote them and checks.ts needs them.
 * Restart: 250ms brings a crashed dev server back before anyone notices; the exponential
 * backoff is capped at 30s so a crash-looping worker costs little but recovers within half
 * a minute of its dependency returning, and 30s of uptime resets it. For comparison PM2
 * waits 100ms ×1.5 up to 15s, Kubernetes 10s doubling to 5min.
 */
export const DEFAULTS = {
  replicas: 1,
  protocol: "http",
  listen: "127.0.0.1",
  readiness: { interval: "1s", timeout: "1s", failureThreshold: 1 },
  liveness: { interval: "5s", timeout: "1s", failureThreshold: 3 },
  successThreshold: 1,
  initialDelay: "0s",
  restart: { backoff: "250ms", maxBackoff: "30s", resetAfter: "30s" },
  stopGrace: "10s",
  logs: { maxSize: "10Mi", maxFiles: 5, maxAge: "168h" },
  update: {
    strategy: "rolling",
    maxSurge: 1,
    maxUnavailable: 0,
    healthyDeadline: "30s",
    drainTimeout: "10s",
  },
} as const;

/** A program and its arguments, or a command line for `/bin/sh -c`: `command` and `entrypoint`. */
function commandField(role: "command" | "entrypoint") {
  const shellText =
    role === "command"
      ? "A command line run by `/bin/sh -c` (pipes, `&&` and `$VAR` work as in a shell)."
      : "A command line run by `/bin/sh -c` as the container's entrypoint (the image's CMD is " +
        "then ignored, as with `docker run --entrypoint`).";
  const argvText =
    "The program and its arguments. `${NAME}` is replaced by the replica's environment " +
    "variable NAME (e.g. `${PORT}`; `${NAME:-default}` gives a default), `$$` is a literal " +
    "`$`, and any other `$` (`$PORT` in `sh -c`) is passed through for the program or shell " +
    "that reads it.";
  const summary =
    role === "command"
      ? "What each replica runs: a list (the program and its arguments, `${VAR}` expanded from " +
        "the replica's env) or a string (run by `/bin/sh -c`). Required for processes; a " +
        "container runs its image's CMD when absent, and with an image's ENTRYPOINT (or " +
        "`entrypoint:`) this is its arguments, as Compose's `command` and Kubernetes' `args`."
      : "With runtime: docker or swarm, replaces the image's ENTRYPOINT; `command:` (else " +
        "nothing) becomes its arguments, as Compose's `entrypoint` and Kubernetes' `command`.";
  const example = role === "command" ? ["node", "server.js"] : ["/docker-entrypoint.sh"];
  return documented(
    z.union([
      documented(z.string().regex(/\S/), shellText, {
        expected: "a non-empty shell command",
        example: role === "command" ? "node server.js" : "/docker-entrypoint.sh",
      }),
      argv(argvText, example),
    ]),
    summary,
    {
      expected: `a ${role}: a list such as ${JSON.stringify(example)} or a string such as "${example.join(" ")}"`,
      example,
    },
  );
}

/** How a new revision replaces the running one (`update.strategy`). */
export const UPDATE_STRATEGIES = ["rolling", "recreate"] as const;

const ROLE_TEXT = {
  readiness:
    "Gates traffic: the proxy sends requests only to ready replicas, and a rollout proceeds " +
    "only once new replicas are ready.",
  liveness: "Restarts a replica whose check keeps failing.",
} as const;

function probe(role: "readiness" | "liveness") {
  const defaults = DEFAULTS[role];
  return documented(
    z.strictObject({
      http: documented(
        z.string().regex(/^\//),
        "GET this path on the replica's PORT; a 2xx or 3xx answer is a success.",
        {
          expected: "a path starting with /",
          example: "/healthz",
          suggest: (found) => (typeof found === "string" ? `/${found}` : undefined),
        },
      ).optional(),
      tcp: documented(z.literal(true), "Open a TCP connection to the replica's PORT.", {
        expected: "`true`",
        example: true,
      }).optional(),
      exec: argv(
        "Run this program in the app's cwd with the replica's env; exit status 0 is a success.",
        ["./check.sh"],
      ).optional(),
      interval: duration("Time between two checks.", defaults.interval).default(defaults.interval),
      timeout: duration("How long one check may take before it counts as failed.", "1s").default(
        defaults.timeout,
      ),
      failureThreshold: wholeNumber(
        "Consecutive failures before the probe counts as failed.",
        1,
        defaults.failureThreshold,
      ).default(defaults.failureThreshold),
      successThreshold: wholeNumber(
        "Consecutive successes before a failed probe counts as passing again.",
        1,
        DEFAULTS.successThreshold,
      ).default(DEFAULTS.successThreshold),
      initialDelay: duration(
        "Wait this long after the replica starts before the first check.",
        "5s",
      ).default(DEFAULTS.initialDelay),
    }),
    `${ROLE_TEXT[role]} Exactly one of \`http\`, \`tcp\` or \`exec\`. Defaults: checked every ` +
      `${defaults.interval} with a ${defaults.timeout} timeout, failed after ` +
      `${defaults.failureThreshold} consecutive failure${defaults.failureThreshold === 1 ? "" : "s"}.`,
    {
      expected: "a probe mapping with one of `http`, `tcp` or `exec`",
      example: { http: "/healthz" },
    },
  );
}

const restartDefaults = DEFAULTS.restart;
const restart = documented(
  z.strictObject({
    backoff: duration(
      `Delay before the first restart of a replica that exited; it grows exponentially on ` +
        `each further exit. Default ${restartDefaults.backoff}: fast enough that a crashed ` +
        "dev server is back before you notice (PM2 starts at 100ms, Kubernetes at 10s).",
      "1s",
    ).default(restartDefaults.backoff),
    maxBackoff: duration(
      `Cap of the growing delay. Default ${restartDefaults.maxBackoff}: a crash-looping ` +
        "worker costs little, yet recovers within half a minute of its dependency coming " +
        "back (PM2 caps at 15s, Kubernetes at 5min, which is long to wait in development).",
      "1m",
    ).default(restartDefaults.maxBackoff),
    resetAfter: duration(
      `A replica that runs this long without exiting starts again from \`backoff\`. Default ` +
        `${restartDefaults.resetAfter}, the same as the cap: staying up longer than the ` +
        "longest wait means the crash loop is over.",
      "1m",
    ).default(restartDefaults.resetAfter),
  }),
  "How replicas that exit are restarted: at once after `backoff`, then exponentially slower " +
    "up to `maxBackoff`.",
  {
    expected: "a mapping with `backoff`, `maxBackoff` and/or `resetAfter`",
    example: { backoff: "1s" },
  },
);

const resources = documented(
  z.strictObject({
    memory: size("Memory limit of each container replica.", "256Mi").optional(),
    cpus: documented(z.number().positive(), "CPUs each container replica may use (0.5 = half).", {
      expected: "a number above 0 such as 0.5",
      example: 0.5,
    }).optional(),
    pids: wholeNumber("Most processes each container replica may run.", 1, 256).optional(),
  }),
  "Limits of each container replica (runtime: docker).",
  { expected: "a mapping with `memory`, `cpus` and/or `pids`", example: { memory: "256Mi" } },
);

const logs = documented(
  z.strictObject({
    maxSize: size(
      "Rotate a replica's stdout/stderr file when it reaches this size. k, M, G are powers of " +
        "1000; Ki, Mi, Gi powers of 1024; a bare number is bytes.",
      "10Mi",
    ).default(DEFAULTS.logs.maxSize),
    maxFiles: wholeNumber(
      "How many files of each stream to keep, the current one included.",
      1,
      DEFAULTS.logs.maxFiles,
    ).default(DEFAULTS.logs.maxFiles),
    maxAge: duration(
      "Remove a replica's output (rotated files, exited replicas' logs) last written longer ago than this.",
      DEFAULTS.logs.maxAge,
    ).default(DEFAULTS.logs.maxAge),
  }),
  `Rotation and retention of each replica's output files. Defaults: ${DEFAULTS.logs.maxSize} × ` +
    `${DEFAULTS.logs.maxFiles} files, kept ${DEFAULTS.logs.maxAge}.`,
  { expected: "a mapping with `maxSize` and/or `maxFiles`", example: { maxSize: "10Mi" } },
);

/** A count of replicas, or a percentage of the desired count: `1`, `25%`. */
function replicaBudget(description: string, example: number | string) {
  return documented(
    z.union([z.number().int().min(0), z.string().regex(/^\d{1,3}%$/)]),
    description,
    { expected: "a whole number ≥ 0 or a percentage such as 25%", example, suggest: unquoteNumber },
  );
}

const updateDefaults = DEFAULTS.update;
const update = documented(
  z.strictObject({
    strategy: documented(
      z.enum(UPDATE_STRATEGIES),
      "`rolling` (default): new replicas start beside the old ones, within maxSurge and " +
        "maxUnavailable, and old ones leave once new ones are ready — no downtime. " +
        "`recreate`: every old replica is stopped, and gone, before a new one starts — " +
        "what a single replica holding a lock, a data folder or a fixed port needs " +
        "(Compose's stop-first, Kubernetes' Recreate); the app serves nothing in between.",
      { expected: "`rolling` or `recreate`", example: "recreate" },
    ).default(updateDefaults.strategy),
    maxSurge: replicaBudget(
      "How many replicas above `replicas` may run during a rollout (a percentage of " +
        `\`replicas\` is rounded up). Default ${updateDefaults.maxSurge}.`,
      "25%",
    ).default(updateDefaults.maxSurge),
    maxUnavailable: replicaBudget(
      "How many of `replicas` may be not ready during a rollout (a percentage is rounded " +
        `down). Default ${updateDefaults.maxUnavailable}: capacity never drops. Both this ` +
        "and maxSurge 0 would leave a rollout no room to move: an error. Neither applies " +
        "to `strategy: recreate`.",
      1,
    ).default(updateDefaults.maxUnavailable),
    healthyDeadline: duration(
      "A new replica that is not ready this long after it started (or any that exits) fails " +
        "the rollout, which then rolls back on its own to the revision that served before. " +
        `Default ${updateDefaults.healthyDeadline}.`,
      "2m",
    ).default(updateDefaults.healthyDeadline),
    drainTimeout: duration(
      "How long an old replica taken out of the proxy's pool may finish its in-flight " +
        `requests before it is stopped. Default ${updateDefaults.drainTimeout}.`,
      "30s",
    ).default(updateDefaults.drainTimeout),
  }),
  "How a new revision replaces the running one: by default new replicas start and must be " +
    "ready before old ones leave the pool, are drained and stopped (`strategy: recreate` " +
    "stops the old ones first); a revision that fails rolls back. A revision that failed is " +
    "tried again when this policy changes.",
  {
    expected:
      "a mapping with `strategy`, `maxSurge`, `maxUnavailable`, `healthyDeadline`, `drainTimeout`",
    example: { maxSurge: 1, maxUnavailable: 0 },
  },
);

const ignore = documented(
  z.array(
    documented(z.string().min(1), "A gitignore-style pattern relative to `cwd`.", {
      expected: "a pattern such as *.log or data/",
      example: "*.log",
    }),
  ),
  "Files of `cwd` that are not part of the app's revision: not hashed, not copied into the " +
    "snapshot its replicas run from. `*.log` (any depth), `data/` (folders only), " +
    "`/build` or `config/*.json` (from `cwd`), `**` across folders. .git/ and .baton/ are " +
    "always left out.",
  { expected: "a list of patterns", example: ["*.log", "tmp/"] },
);

const env = documented(
  z.record(
    z.string(),
    documented(
      z.union([z.string(), z.number(), z.boolean(), secretReference]),
      "The value; numbers and booleans are kept exactly as written (`1.10` stays `1.10`). " +
        "`{ secret: NAME }`: the value of a secret set with `baton secret set NAME`.",
      { expected: "a string, number, boolean or { secret: NAME }", example: "value" },
    ),
  ),
  "Environment variables of every replica, on top of those Baton sets (PORT, …).",
  { expected: "a mapping of variable names to values", example: { GREETING: "hi" } },
  { propertyNames: { pattern: ENV_NAME_PATTERN.source } },
);

/** A repository host[:port] with an optional path: `127.0.0.1:5000`, `registry.example.com/team`. */
export const REGISTRY_PATTERN =
  /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;

const registryAddress = documented(
  z.string().regex(REGISTRY_PATTERN),
  "A registry host[:port], optionally with a path.",
  { expected: "a registry address such as 127.0.0.1:5000", example: "127.0.0.1:5000" },
);

const registryWithCredentials = z.strictObject({
  url: registryAddress,
  username: documented(z.string().min(1), "The registry login.", {
    expected: "a user name",
    example: "baton",
  }),
  // Only `{ secret: NAME }`: a password written in the definition would sit in git.
  password: secretReference,
});

/** The address of `registry:`, whichever form it is written in. */
export function registryUrl(
  registry: string | { readonly url: string } | undefined,
): string | undefined {
  return typeof registry === "object" ? registry.url : registry;
}

const buildArgs = documented(
  z.record(
    z.string(),
    documented(
      z.union([z.string(), z.number(), z.boolean()]),
      "The value of the build argument (`ARG NAME` in the Dockerfile).",
      { expected: "a string, number or boolean", example: "20" },
    ),
  ),
  "Build arguments, as `docker build --build-arg NAME=VALUE`.",
  { expected: "a mapping of argument names to values", example: { NODE_VERSION: "20" } },
  { propertyNames: { pattern: ENV_NAME_PATTERN.source } },
);

const buildObject = documented(
  z.strictObject({
    context: documented(
      z.string().min(1),
      "The folder sent to the engine as the build context, relative to the definition; " +
        "`.dockerignore` in it is honoured. Default: the folder holding the definition.",
      { expected: "a directory path", example: "./api" },
    ).default("."),
    dockerfile: documented(
      z.string().min(1),
      "The Dockerfile, relative to `context`. Default: Dockerfile.",
      { expected: "a file path inside the context", example: "Dockerfile" },
    ).default("Dockerfile"),
    args: buildArgs.default({}),
    labels: documented(
      z.record(z.string(), z.string()),
      "Labels given to the built image, besides the baton.* ones Baton sets.",
      { expected: "a mapping of label names to strings", example: { team: "shop" } },
    ).default({}),
  }),
  "How the image is built: `context`, `dockerfile`, `args`, `labels`.",
  { expected: "a mapping with `context`, `dockerfile`, `args`", example: { context: "./api" } },
);

const buildSchema = documented(
  z.union([
    documented(z.string().min(1), "The build context folder (Dockerfile at its root).", {
      expected: "a directory path",
      example: "./api",
    }),
    buildObject,
  ]),
  "Build the app's image from a Dockerfile instead of naming one (`image`): `baton build` " +
    "builds it through the Docker engine, tags it `<registry>/<project>/<app>:<version>`, " +
    "pushes it to `registry` and records a release; replicas run that release by digest. " +
    "Implies runtime: docker.",
  {
    expected:
      "a build context path such as ./api, or a mapping with `context`, `dockerfile`, `args`",
    example: { context: "./api", args: { NODE_VERSION: "20" } },
  },
);

export const appSchema = documented(
  z.strictObject({
    command: commandField("command").optional(),
    entrypoint: commandField("entrypoint").optional(),
    cwd: documented(
      z.string().min(1),
      "The app's folder, relative to the definition file; it must exist. Its content is part " +
        "of the app's revision: editing a file in it rolls the app out again, and each " +
        "revision's replicas run from their own snapshot of it (see `ignore`). Default: the " +
        "folder holding the definition.",
      { expected: "a directory path", example: "./site" },
    ).optional(),
    ignore: ignore.default([]),
    env: env.default({}),
    replicas: wholeNumber(
      `How many replicas to keep running (0 stops the app but keeps it defined). Default ${DEFAULTS.replicas}.`,
      0,
      3,
    ).default(DEFAULTS.replicas),
    dependsOn: documented(
      z.array(
        documented(z.string().min(1), "The name of another app of `apps:`.", {
          expected: "an app name",
          example: "db",
        }),
      ),
      "Apps that must be ready before this one starts: no replica of this app starts until " +
        "each of them has a ready replica of the revision it should run (`baton status` shows " +
        "`waiting for db` meanwhile). It orders starts only: replicas already running are " +
        "not stopped when a dependency restarts or rolls out. Not part of the revision: " +
        "changing it restarts nothing. Apps may not wait for each other in a cycle. Not for " +
        "swarm apps: Swarm starts services in no order.",
      {
        expected: "a list of app names such as [db, cache]",
        example: ["db"],
        suggest: (found) => (typeof found === "string" ? [found] : undefined),
      },
    ).default([]),
    port: documented(
      z.number().int().min(1).max(65535),
      "Public port served by Baton's proxy, which balances over the ready replicas (each " +
        "replica gets its own PORT). Two apps cannot share a port. Absent: no proxy.",
      { expected: "a port number from 1 to 65535", example: 8080, suggest: unquoteNumber },
    ).optional(),
    listen: documented(
      z.string().refine((text) => isIP(text) !== 0),
      "Address the proxy binds `port` on: 127.0.0.1 (default) serves this machine only; " +
        "0.0.0.0 (or ::) serves every network the machine is on.",
      { expected: "an IP address such as 127.0.0.1 or 0.0.0.0", example: "0.0.0.0" },
    ).default(DEFAULTS.listen),
    protocol: documented(
      z.enum(["http", "tcp"]),
      "What the proxy speaks on `port`: http (requests are balanced one by one) or tcp " +
        "(connections are). Default http.",
      { expected: "`http` or `tcp`", example: "http" },
    ).default(DEFAULTS.protocol),
    health: documented(
      z.strictObject({
        readiness: probe("readiness").optional(),
        liveness: probe("liveness").optional(),
      }),
      "Health checks of each replica. Without readiness, a replica of an app with a `port` " +
        "is ready once its PORT accepts connections, of an app without one once started; " +
        "without liveness it is restarted only when it exits.",
      {
        expected: "a mapping with `readiness` and/or `liveness`",
        example: { readiness: { http: "/" } },
      },
    ).prefault({}),
    restart: restart.prefault({}),
    stopGrace: duration(
      `Time between SIGTERM and SIGKILL when a replica is stopped. Default ${DEFAULTS.stopGrace}.`,
      "30s",
    ).default(DEFAULTS.stopGrace),
    logs: logs.prefault({}),
    update: update.prefault({}),
    runtime: documented(
      z.enum(RUNTIMES),
      "How replicas run: `process` (default; processes of this machine), `docker` " +
        "(containers of `image` on the local Docker engine) or `swarm` (a Swarm service of " +
        "`image`; the container keys apply as for docker).",
      { expected: "`process`, `docker` or `swarm`", example: "docker" },
    ).default("process"),
    image: documented(
      z.string().min(1),
      "With runtime: docker, the image each replica runs (a name:tag or a digest); it must " +
        "be on the engine already (no registry is pulled from).",
      { expected: "an image reference such as shop/api:1.2", example: "shop/api:1.2" },
    ).optional(),
    containerPort: documented(
      z.number().int().min(1).max(65535),
      "With runtime: docker, the port the app listens on inside its container (set as its " +
        "PORT); published on an ephemeral 127.0.0.1 port that Baton's proxy fronts. Default 8080.",
      { expected: "a port number from 1 to 65535", example: 8080, suggest: unquoteNumber },
    ).default(8080),
    resources: resources.optional(),
    user: documented(
      z.string().min(1),
      "The user replicas run as: `NAME` or `UID[:GID]`. Processes: a user of this machine; " +
        "the replica's whole process group gets its uid, group and supplementary groups, and " +
        "HOME (default: the controller's user). Containers: a user of the image (default " +
        "65534:65534, nobody).",
      { expected: "a user such as postgres or 1000:1000", example: "postgres" },
    ).optional(),
    group: documented(
      z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/),
      "The group replicas run as (`NAME` or `GID`), instead of `user`'s own group.",
      { expected: "a group such as www-data or 1000", example: "www-data" },
    ).optional(),
    envFile: documented(
      z.string().min(1),
      "A file of `KEY=VALUE` lines (relative to the definition), read as Docker Compose reads " +
        "an env_file; `env:` wins over it. Editing it rolls the app out like any revision.",
      { expected: "a path such as .env", example: ".env" },
    ).optional(),
    inheritEnv: documented(
      z.union([z.boolean(), z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/))]),
      "Process replicas get only their declared environment, PATH, HOME, LANG, TZ and " +
        "Baton's variables; `true` adds the controller's whole environment, a list the named " +
        "variables of it.",
      { expected: "true, false or a list of names such as [AWS_REGION]", example: ["AWS_REGION"] },
    ).optional(),
    writableRootfs: documented(
      z.boolean(),
      "With runtime: docker, let replicas write to their root filesystem (read-only by " +
        "default; /tmp is always writable).",
      { expected: "true or false", example: true },
    ).default(false),
    capabilities: documented(
      z.array(z.string().regex(/^[A-Z_]+$/)),
      "With runtime: docker, Linux capabilities given back (all are dropped by default), " +
        "e.g. NET_BIND_SERVICE.",
      {
        expected: "a list of capability names such as NET_BIND_SERVICE",
        example: ["NET_BIND_SERVICE"],
      },
    ).default([]),
    volumes: documented(
      z.array(z.string().regex(/^[^:]+:\/[^:]*(:ro|:rw)?$/)),
      "With runtime: docker, `name:/path` (a named volume) or `./dir:/path[:ro]` (a folder " +
        "of the project, relative to the definition) mounted in each replica.",
      {
        expected: "a list such as data:/var/lib/app or ./conf:/etc/app:ro",
        example: ["data:/data"],
      },
    ).default([]),
    publish: documented(
      z.enum(["host", "mesh"]),
      "With runtime: swarm, how the app is reached: `host` (default; each task publishes " +
        "its containerPort on its node, fronted by Baton's proxy) or `mesh` (Swarm's routing " +
        "mesh publishes `port` on every node; needs IPVS in the kernel; no Baton proxy).",
      { expected: "`host` or `mesh`", example: "host" },
    ).optional(),
    build: buildSchema.optional(),
    allowPrivileged: documented(
      z.boolean(),
      "Allow what gives replicas power over the host: the Docker socket, host system " +
        "folders or paths outside the project as volumes, user root (`0:0`), SYS_ADMIN and " +
        "similar capabilities. Without it such a setting is an error.",
      { expected: "true or false", example: true },
    ).optional(),
    files: documented(
      z.record(
        z.string().regex(/^\/(?!.*(^|\/)\.\.?(\/|$))[^\0]*[^/]$/),
        documented(
          z.strictObject({
            secret: documented(z.string().min(1), "The secret whose value the file holds.", {
              expected: "a secret's name",
              example: "db-password",
            }),
            mode: documented(
              z.string().regex(/^0?[0-7]{3}$/),
              "The file's mode (0400 unless said otherwise).",
              { expected: 'an octal mode such as "0400"', example: "0440" },
            ).default("0400"),
          }),
          "One file: the secret it holds and its mode.",
          { expected: "{ secret: NAME, mode? }", example: { secret: "db-password" } },
        ),
      ),
      "Files whose content is a secret, by absolute path: a container sees the file there " +
        "(on tmpfs, read-only); a process finds it under `$BATON_SECRETS_DIR` (a private " +
        "tmpfs folder of its replica), e.g. `${BATON_SECRETS_DIR}/run/secrets/db`.",
      {
        expected: 'a mapping such as /run/secrets/db: { secret: db-password, mode: "0400" }',
        example: { "/run/secrets/db": { secret: "db-password", mode: "0400" } },
      },
    ).default({}),
  }),
  "One application: a command run as `replicas` identical processes.",
  { expected: "a mapping of app settings", example: { command: ["node", "server.js"] } },
);

const environment = documented(
  z.strictObject({
    runtime: documented(
      z.enum(RUNTIMES),
      "How the apps of this environment run, unless an app (or an override) sets its own " +
        "`runtime`.",
      { expected: "`process`, `docker` or `swarm`", example: "docker" },
    ).optional(),
    overrides: documented(
      z.strictObject({
        apps: documented(
          z.record(
            z.string(),
            documented(
              z.record(
                z.string(),
                documented(z.unknown(), "A field of the app, as under `apps.<app>`.", {
                  expected: "a value valid for that app field",
                  example: 4,
                }),
              ),
              "The fields of one app that differ in this environment.",
              { expected: "a mapping of app fields", example: { replicas: 4 } },
            ),
          ),
          "App fields that differ in this environment, by app name. Mappings are merged " +
            "into the app's, any other value replaces it; the result is validated as an app.",
          { expected: "a mapping of app names to app fields", example: { web: { replicas: 4 } } },
        ).optional(),
      }),
      "What this environment changes in the definition (an overlay).",
      { expected: "a mapping with `apps`", example: { apps: { web: { replicas: 4 } } } },
    ).optional(),
    state: documented(
      z.string().min(1),
      "The state directory of this environment's controller, relative to the definition: " +
        "`baton up --env NAME` (and every command given `--env NAME`) uses it unless `--state` " +
        "or $BATON_STATE says otherwise. Needed when a pipeline deploys to or promotes into " +
        "this environment from another one: the pipeline's controller finds this " +
        "environment's controller through it.",
      { expected: "a directory path", example: ".baton-prod" },
    ).optional(),
    ...environmentHostFields,
    policy: policySchema.optional(),
  }),
  "One environment: its runtime and its overrides.",
  { expected: "a mapping with `runtime` and/or `overrides`", example: { runtime: "docker" } },
);

export const definitionSchema = documented(
  z.strictObject({
    project: documented(
      z.string().min(1),
      "Name of the project. Default: the name of the folder holding the definition.",
      { expected: "a non-empty string", example: "shop" },
    ).optional(),
    apps: documented(
      z.record(z.string(), appSchema),
      "The applications, by name (lowercase letters, digits and -, starting with a letter, " +
        "at most 63 characters). They start in parallel; file order is kept for display.",
      {
        expected: "a mapping of app names to app settings",
        example: { web: { command: ["node", "server.js"] } },
      },
      { propertyNames: { pattern: APP_NAME_PATTERN.source } },
    ).default({}),
    environments: documented(
      z.record(z.string(), environment),
      "Environments (dev, prod…) the same definition runs in, by name; `baton up --env NAME` " +
        "chooses one and the state directory records it. Each names its runtime and may " +
        "override app fields.",
      {
        expected: "a mapping of environment names to environment settings",
        example: { dev: { runtime: "process" }, prod: { runtime: "docker" } },
      },
      { propertyNames: { pattern: APP_NAME_PATTERN.source } },
    ).optional(),
    hosts: hostsSchema,
    ssh: sshSchema,
    configure: configureSchema,
    roles: rolesSchema,
    parity: paritySchema,
    pipelines: pipelinesSchema,
    alerts: alertsSchema,
    notifiers: notifiersSchema,
    alerting: alertingSchema,
    metrics: metricsSchema,
    registry: documented(
      z.union([registryAddress, registryWithCredentials]),
      "Where images built from `build:` are pushed: a registry host[:port], optionally with " +
        "a path. 127.0.0.0/8 registries work over plain HTTP without engine settings. " +
        "`{ url, username, password: { secret: NAME } }` pushes and pulls with that login.",
      {
        expected: "a registry address such as 127.0.0.1:5000, or { url, username, password }",
        example: "127.0.0.1:5000",
      },
    ).optional(),
  }),
  "A Baton definition (baton.yaml). Top-level keys starting with `x-` are ignored: use them " +
    "for YAML anchors.",
  { expected: "a mapping with keys such as `project` and `apps`", example: { apps: {} } },
  { patternProperties: { [EXTENSION_KEY_PATTERN.source]: {} } },
);

/** The validated definition as written: durations and sizes still text, defaults filled in. */
export type DefinitionInput = z.output<typeof definitionSchema>;
export type AppInput = z.output<typeof appSchema>;
export type BuildInput = NonNullable<AppInput["build"]>;
export type ProbeInput = NonNullable<AppInput["health"]["readiness"]>;
