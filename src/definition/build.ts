/**
 * The validated definition as written → the model: durations in ms, sizes in bytes, paths
 * absolute, probes tagged by kind, scalars kept as written. Runs only on input that passed
 * the schema and the checks, so a value that does not parse here is a bug, not a user error.
 */

import { resolve } from "node:path";
import { DEFAULT_ENVIRONMENT, secretsFilePath } from "../security/secrets/secrets-file.js";
import { buildAlerting } from "./alert-build.js";
import { envFileVariables } from "./env-file-checks.js";
import type { DefinitionFiles, FolderContent } from "./files.js";
import { buildHosts } from "./host-build.js";
import { METRICS_DEFAULTS } from "./metrics-schema.js";
import type {
  AppSpec,
  BuildSpec,
  Command,
  ContainerSpec,
  Definition,
  MetricsSpec,
  Probe,
  ReplicaBudget,
} from "./model.js";
import type { Path } from "./phrases.js";
import { buildPipelines } from "./pipeline-build.js";
import {
  type AppInput,
  type BuildInput,
  type DefinitionInput,
  type ProbeInput,
  registryUrl,
} from "./schema.js";
import { parseDuration, parseSize } from "./units.js";
import type { Positions } from "./yaml-source.js";

export interface BuildContext {
  /** Absolute path of the definition file. */
  readonly file: string;
  /** Absolute folder of the definition file. */
  readonly dir: string;
  readonly project: string;
  readonly text: string;
  readonly hash: string;
  readonly source: Positions;
  /** Where app folders are read (their content digests) and host templates. */
  readonly files: DefinitionFiles;
  /** Absolute paths never part of an app's content (a state directory inside its cwd). */
  readonly exclude?: readonly string[];
  readonly environments: readonly string[];
  /** The environment the input was overlaid for. */
  readonly environment?: string;
}

export function buildDefinition(input: DefinitionInput, ctx: BuildContext): Definition {
  const apps: Record<string, AppSpec> = {};
  const project = input.project ?? ctx.project;
  for (const [name, app] of Object.entries(input.apps)) {
    apps[name] = buildApp(name, app, input, ctx, project);
  }
  return {
    file: ctx.file,
    project,
    apps,
    ...(input.registry === undefined ? {} : { registry: registryUrl(input.registry) }),
    ...(typeof input.registry === "object"
      ? {
          registryAuth: {
            username: input.registry.username,
            passwordSecret: input.registry.password.secret,
          },
        }
      : {}),
    hash: ctx.hash,
    source: ctx.text,
    environments: ctx.environments,
    ...(ctx.environment === undefined ? {} : { environment: ctx.environment }),
    environmentStates: environmentStates(input, ctx.dir),
    hosts: buildHosts(input, ctx),
    pipelines: buildPipelines(input.pipelines, ctx.dir, ctx.environments),
    alerting: buildAlerting(input.alerts, input.notifiers, input.alerting),
    metrics: buildMetrics(input.metrics),
  };
}

function buildMetrics(input: DefinitionInput["metrics"]): MetricsSpec {
  return {
    intervalMs: ms(input?.interval ?? METRICS_DEFAULTS.interval),
    hostIntervalMs: ms(input?.hostInterval ?? METRICS_DEFAULTS.hostInterval),
    retention: {
      rawMs: ms(input?.retention?.raw ?? METRICS_DEFAULTS.raw),
      aggregatesMs: ms(input?.retention?.aggregated ?? METRICS_DEFAULTS.aggregated),
    },
  };
}

function environmentStates(input: DefinitionInput, dir: string): Record<string, string> {
  const states: Record<string, string> = {};
  for (const [name, env] of Object.entries(input.environments ?? {})) {
    if (env.state !== undefined) states[name] = resolve(dir, env.state);
  }
  return states;
}

function buildApp(
  name: string,
  app: AppInput,
  input: DefinitionInput,
  ctx: BuildContext,
  project: string,
): AppSpec {
  const registry = registryUrl(input.registry);
  const path = ["apps", name];
  const asWritten = (value: string | number | boolean, at: Path): string =>
    typeof value === "string" ? value : (ctx.source.scalarSource(at) ?? String(value));
  const commandOf = (
    written: AppInput["command"],
    key: "command" | "entrypoint",
  ): Command | undefined =>
    written === undefined
      ? undefined
      : typeof written === "string"
        ? { shell: written }
        : { argv: written.map((item, i) => asWritten(item, [...path, key, i])) };
  const command = commandOf(app.command, "command");
  const entrypoint = commandOf(app.entrypoint, "entrypoint");
  // As in Compose, `env:` wins over the env file.
  const env: Record<string, string> = envFileVariables(app.envFile, ctx.dir, ctx.files);
  const secretEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(app.env)) {
    if (typeof value === "object") secretEnv[key] = value.secret;
    else env[key] = asWritten(value, [...path, "env", key]);
  }
  const health: { readiness?: Probe; liveness?: Probe } = {};
  for (const role of ["readiness", "liveness"] as const) {
    const probe = app.health[role];
    if (probe)
      health[role] = buildProbe(probe, (item, i) =>
        asWritten(item, [...path, "health", role, "exec", i]),
      );
  }
  const cwd = app.cwd === undefined ? ctx.dir : resolve(ctx.dir, app.cwd);
  // The definition itself is not the app's content: scaling must not roll the app. Nor are
  // the environments' state directories, which their controllers write all the time.
  const exclude = [
    ...(ctx.exclude ?? []),
    ctx.file,
    ...Object.values(environmentStates(input, ctx.dir)),
    // Secrets reach an app as the values it names, never as its folder's files.
    ...[DEFAULT_ENVIRONMENT, ...ctx.environments].map((env) => secretsFilePath(ctx.dir, env)),
  ];
  const build =
    app.build === undefined
      ? undefined
      : buildImage(app.build, ctx.dir, imageRepository(registry, project, name), (value, key) =>
          asWritten(value, [...path, "build", "args", key]),
        );
  const content =
    build === undefined ? folderContent(cwd, app.ignore, exclude, ctx.files) : undefined;
  return {
    name,
    ...(command === undefined ? {} : { command }),
    cwd,
    ignore: app.ignore,
    contentExclude: exclude,
    // A built app's files reach its replicas through its image: the release's digest is
    // what identifies them, and an edit rolls out only once it is built.
    contentDigest: content?.digest ?? "",
    ...(content?.manifest === undefined ? {} : { contentManifest: content.manifest }),
    env,
    ...processIdentity(app),
    ...(Object.keys(secretEnv).length === 0 ? {} : { secretEnv }),
    ...(Object.keys(app.files).length === 0 ? {} : { secretFiles: app.files }),
    replicas: app.replicas,
    ...(app.dependsOn.length === 0 ? {} : { dependsOn: [...new Set(app.dependsOn)] }),
    ...(app.port === undefined ? {} : { port: app.port }),
    protocol: app.protocol,
    listen: app.listen,
    health,
    restart: {
      backoffMs: ms(app.restart.backoff),
      maxBackoffMs: ms(app.restart.maxBackoff),
      resetAfterMs: ms(app.restart.resetAfter),
    },
    stopGraceMs: ms(app.stopGrace),
    logs: {
      maxBytes: typeof app.logs.maxSize === "number" ? app.logs.maxSize : bytes(app.logs.maxSize),
      maxFiles: app.logs.maxFiles,
      maxAgeMs: ms(app.logs.maxAge),
    },
    runtime: build === undefined ? app.runtime : app.runtime === "swarm" ? "swarm" : "docker",
    ...(build !== undefined
      ? { container: buildContainer(app, build.repository, ctx.dir, entrypoint), build }
      : app.runtime !== "process" && app.image !== undefined
        ? { container: buildContainer(app, app.image, ctx.dir, entrypoint) }
        : {}),
    ...(app.runtime === "swarm" ? { publish: app.publish ?? "host" } : {}),
    update: {
      strategy: app.update.strategy,
      maxSurge: app.update.maxSurge as ReplicaBudget,
      maxUnavailable: app.update.maxUnavailable as ReplicaBudget,
      healthyDeadlineMs: ms(app.update.healthyDeadline),
      drainTimeoutMs: ms(app.update.drainTimeout),
    },
  };
}

function buildContainer(
  app: AppInput,
  image: string,
  dir: string,
  entrypoint: Command | undefined,
): ContainerSpec {
  const resources = app.resources ?? {};
  return {
    image,
    ...(entrypoint === undefined ? {} : { entrypoint }),
    containerPort: app.containerPort,
    user: containerUser(app.user, app.group),
    readOnlyRootfs: !app.writableRootfs,
    capAdd: app.capabilities,
    // A project folder (`./conf:/etc/app`) is bound by its absolute path; a name is a volume.
    binds: app.volumes.map((volume) =>
      volume.startsWith(".") || volume.startsWith("/")
        ? `${resolve(dir, volume.slice(0, volume.indexOf(":")))}${volume.slice(volume.indexOf(":"))}`
        : volume,
    ),
    ...(resources.memory === undefined
      ? {}
      : {
          memoryBytes:
            typeof resources.memory === "number" ? resources.memory : bytes(resources.memory),
        }),
    ...(resources.cpus === undefined ? {} : { cpus: resources.cpus }),
    ...(resources.pids === undefined ? {} : { pids: resources.pids }),
  };
}

/** `user:`, `group:` and `inheritEnv:` of a process app; containers take theirs elsewhere. */
function processIdentity(app: AppInput): Pick<AppSpec, "runAs" | "inheritEnv"> {
  if (app.runtime !== "process" || app.build !== undefined) return {};
  const runAs = {
    ...(app.user === undefined ? {} : { user: app.user }),
    ...(app.group === undefined ? {} : { group: app.group }),
  };
  const inherit = app.inheritEnv === true ? true : app.inheritEnv || undefined;
  return {
    ...(Object.keys(runAs).length === 0 ? {} : { runAs }),
    ...(inherit === undefined || (Array.isArray(inherit) && inherit.length === 0)
      ? {}
      : { inheritEnv: inherit }),
  };
}

/** A container's `uid[:gid]` or name; `group:` replaces the group part. */
function containerUser(user: string | undefined, group: string | undefined): string {
  const written = user ?? "65534:65534";
  return group === undefined ? written : `${written.split(":")[0]}:${group}`;
}

function buildImage(
  input: BuildInput,
  dir: string,
  repository: string,
  asWritten: (value: string | number | boolean, key: string) => string,
): BuildSpec {
  const given = typeof input === "string" ? { context: input } : input;
  const args: Record<string, string> = {};
  if (typeof input !== "string") {
    for (const [key, value] of Object.entries(input.args)) args[key] = asWritten(value, key);
  }
  return {
    context: resolve(dir, given.context ?? "."),
    dockerfile: typeof input === "string" ? "Dockerfile" : input.dockerfile,
    args,
    labels: typeof input === "string" ? {} : input.labels,
    repository,
  };
}

/**
 * `<registry>/<project>/<app>`. A project named after its folder may hold characters an
 * image repository cannot (upper case, spaces): they become `-`.
 */
function imageRepository(registry: string | undefined, project: string, app: string): string {
  if (registry === undefined) throw new Error("build: an app with build: and no registry");
  const component =
    project
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^[._-]+|[._-]+$/g, "") || "baton";
  return `${registry}/${component}/${app}`;
}

function buildProbe(
  probe: ProbeInput,
  asWritten: (item: string | number | boolean, index: number) => string,
): Probe {
  const timing = {
    intervalMs: ms(probe.interval),
    timeoutMs: ms(probe.timeout),
    failureThreshold: probe.failureThreshold,
    successThreshold: probe.successThreshold,
    initialDelayMs: ms(probe.initialDelay),
  };
  if (probe.http !== undefined) return { kind: "http", path: probe.http, ...timing };
  if (probe.exec !== undefined) return { kind: "exec", argv: probe.exec.map(asWritten), ...timing };
  return { kind: "tcp", ...timing };
}

function ms(text: string): number {
  const value = parseDuration(text);
  if (value === undefined) throw new Error(`build: unvalidated duration ${JSON.stringify(text)}`);
  return value;
}

function bytes(text: string): number {
  const value = parseSize(text);
  if (value === undefined) throw new Error(`build: unvalidated size ${JSON.stringify(text)}`);
  return value;
}

/**
 * The app folder's content. A folder that does not exist has none: a definition parsed from
 * text for a file that is not on disk (tests) still builds, and checks.ts has already
 * reported a `cwd` the user wrote that is missing.
 */
function folderContent(
  cwd: string,
  ignore: readonly string[],
  exclude: readonly string[],
  files: DefinitionFiles,
): FolderContent | undefined {
  if (files.kind(cwd) === undefined) return undefined;
  return files.folder(cwd, { ignore, exclude });
}
