/**
 * `pipelines:` in `baton.yaml`: shapes only. Rules across fields (one action per step, fields
 * that belong to `run` steps only, `needs` that exist without a cycle, apps and environments
 * that exist) are in pipeline-checks.ts.
 */
import { z } from "zod";
import { APP_NAME_PATTERN } from "./names.js";
import { argument, documented, duration, size, wholeNumber } from "./schema-fields.js";

/** Step and pipeline names: they appear in commands (`baton run NAME`) and file names. */
export const PIPELINE_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export const PIPELINE_DEFAULTS = {
  branch: "main",
  poll: "1m",
  timeout: "1h",
  retries: 0,
  approval: "auto",
  healthyFor: "0s",
  retention: { runs: 50, maxAge: "30d", maxLogSize: "10Mi" },
} as const;

/**
 * How long a run's files are kept: days (`30d`) on top of the usual duration units, because
 * retention is counted in days; `1d12h` and `36h` are also read.
 */
export const RETENTION_AGE_PATTERN = /^(?:\d+d)?(?:\d+(?:\.\d+)?(?:ms|s|m|h))*$/;

const appName = documented(z.string().regex(APP_NAME_PATTERN), "The app.", {
  expected: "an app name",
  example: "api",
});

const environmentName = (description: string, example: string) =>
  documented(z.string().min(1), description, { expected: "an environment name", example });

const stepName = documented(
  z.string().regex(PIPELINE_NAME_PATTERN),
  "The step's name, unique in its pipeline: lowercase letters, digits, `.`, `_` and `-`.",
  { expected: "a step name such as test", example: "test" },
);

const globs = (description: string, example: string) =>
  documented(z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]), description, {
    expected: "a glob or a list of globs",
    example,
  });

const cacheItem = documented(
  z.union([
    z.string().min(1),
    z.strictObject({
      path: documented(z.string().min(1), "The folder, relative to the checkout.", {
        expected: "a relative path",
        example: ".npm",
      }),
      key: documented(z.string().min(1), "The cache's name; runs with one key share it.", {
        expected: "a name",
        example: "npm-{{ hash package-lock.json }}",
      }).optional(),
    }),
  ]),
  "A folder of the checkout kept between runs: restored before the step, saved after it passes.",
  { expected: "a path or { path, key }", example: ".npm" },
);

const step = documented(
  z.strictObject({
    name: stepName,
    run: documented(
      z.string().regex(/\S/),
      "A command line run by `sh -c` in a clean checkout of the run's commit.",
      { expected: "a shell command", example: "npm ci && npm test" },
    ).optional(),
    image: documented(
      z.string().min(1),
      "A local image to run the command in (the checkout mounted at /workspace); on the " +
        "controller's host when absent.",
      { expected: "an image name", example: "node-build" },
    ).optional(),
    user: documented(
      z.string().regex(/^(?:[a-z_][a-z0-9_-]*\$?|\d+(?::\d+)?)$/),
      "Who the command runs as on the host (a root controller switches to it): a user name, " +
        "UID or UID:GID; the unprivileged baton-step system user when absent.",
      { expected: "a user name or UID:GID", example: "builder" },
    ).optional(),
    env: documented(
      z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), argument),
      "Variables of the command's environment.",
      { expected: "a mapping of variable names to values", example: { CI: "true" } },
    ).optional(),
    secrets: documented(
      z.record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
        documented(
          z.union([
            z.strictObject({
              file: documented(
                z.string().min(1),
                "A file the controller reads at run time (relative to the definition); a " +
                  "trailing newline is dropped.",
                { expected: "a file path", example: "/etc/baton/npm-token" },
              ),
            }),
            z.strictObject({
              env: documented(
                z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
                "A variable of the controller's own environment.",
                { expected: "a variable name", example: "NPM_TOKEN" },
              ),
            }),
          ]),
          "Where the secret's value comes from: `{ file: PATH }` or `{ env: VAR }`.",
          { expected: "{ file: PATH } or { env: VAR }", example: { file: "/etc/baton/npm-token" } },
        ),
      ),
      "Variables of the command's environment whose values are secrets: read when the step " +
        "starts (never written in the definition, the run's records or events), and replaced " +
        "by *** wherever the command prints them into the step's log.",
      {
        expected: "a mapping of variable names to { file } or { env }",
        example: { NPM_TOKEN: { env: "NPM_TOKEN" } },
      },
    ).optional(),
    reports: documented(
      z.strictObject({
        junit: globs(
          "JUnit XML files the command writes, relative to the checkout.",
          "reports/*.xml",
        ),
      }),
      "Test reports read after the command: counts and the names of failed tests.",
      { expected: "{ junit: glob }", example: { junit: "reports/*.xml" } },
    ).optional(),
    cache: documented(z.array(cacheItem), "Folders kept between runs.", {
      expected: "a list of paths",
      example: [".npm"],
    }).optional(),
    artifacts: globs("Files kept with the run, relative to the checkout.", "dist/**").optional(),
    build: documented(
      z.string().regex(APP_NAME_PATTERN),
      "Builds this app's image (its `build:`) at the run's commit: the run's release.",
      { expected: "an app name", example: "api" },
    ).optional(),
    deploy: documented(
      z.strictObject({
        app: appName,
        env: environmentName("The environment it is rolled out to.", "dev"),
      }),
      "Rolls the run's release of the app out to an environment (health-gated, rolled back " +
        "when unhealthy).",
      { expected: "{ app, env }", example: { app: "api", env: "dev" } },
    ).optional(),
    promote: documented(
      z.strictObject({
        app: appName,
        to: environmentName("The environment it is promoted to.", "prod"),
        approval: documented(
          z.enum(["manual", "auto"]),
          "`manual`: the step waits for `baton approve RUN`; `auto` (the default) does not.",
          { expected: "`manual` or `auto`", example: "manual" },
        ).optional(),
        after: documented(
          z.strictObject({
            healthyFor: duration(
              "How long the release must have been healthy in the environment before.",
              "5m",
            ),
          }),
          "What must hold before the promotion starts.",
          { expected: "{ healthyFor: duration }", example: { healthyFor: "5m" } },
        ).optional(),
      }),
      "Deploys to the next environment the very release (same digest) that passed in the " +
        "environment before it in this pipeline.",
      { expected: "{ app, to, approval?, after? }", example: { app: "api", to: "prod" } },
    ).optional(),
    needs: documented(z.array(stepName), "Steps that must pass before this one starts.", {
      expected: "a list of step names",
      example: ["test"],
    }).optional(),
    timeout: duration(
      `The step, with every process it started, is killed after this long (${PIPELINE_DEFAULTS.timeout}).`,
      "10m",
    ).optional(),
    retries: wholeNumber(
      "Attempts after a failure (not after a timeout) before the step fails (0).",
      0,
      2,
    ).optional(),
  }),
  "One step: `run` a command, `build` an app's image, `deploy` it, or `promote` it.",
  {
    expected: "a step such as { name: test, run: npm test }",
    example: { name: "test", run: "npm ci && npm test" },
  },
);

export const pipelinesSchema = documented(
  z.record(
    z.string(),
    documented(
      z.strictObject({
        source: documented(
          z.strictObject({
            repo: documented(
              z.string().min(1),
              "The git repository: a path (relative to the definition's folder) or an " +
                "ssh/https URL.",
              { expected: "a path or a git URL", example: "." },
            ),
            branch: documented(
              z.string().min(1),
              `The branch whose commits run the pipeline (${PIPELINE_DEFAULTS.branch}).`,
              { expected: "a branch name", example: "main" },
            ).optional(),
          }),
          "Where the pipeline's commits come from.",
          { expected: "{ repo, branch }", example: { repo: ".", branch: "main" } },
        ),
        triggers: documented(
          z.strictObject({
            push: documented(
              z.boolean(),
              "Run on a push the repository's hook reports (`baton hooks install`); true.",
              { expected: "true or false", example: true },
            ).optional(),
            poll: documented(
              z.union([z.literal(false), duration("", "1m")]),
              `Also look for new commits this often (${PIPELINE_DEFAULTS.poll}); false: never.`,
              { expected: "a duration such as 1m, or false", example: "1m" },
            ).optional(),
            schedule: documented(
              z.union([z.string().min(1), z.array(z.string().min(1))]),
              "Cron expressions (minute hour day month weekday) that run the branch's head.",
              { expected: "a cron expression such as 0 3 * * *", example: "0 3 * * *" },
            ).optional(),
          }),
          "What starts a run, besides `baton run`.",
          { expected: "{ push, poll, schedule }", example: { schedule: "0 3 * * *" } },
        ).optional(),
        concurrency: documented(
          z.strictObject({
            cancelSuperseded: documented(
              z.boolean(),
              "A newer commit cancels an older commit's run that has not deployed yet (true).",
              { expected: "true or false", example: false },
            ).optional(),
          }),
          "Runs of one pipeline are queued, one at a time.",
          { expected: "{ cancelSuperseded }", example: { cancelSuperseded: true } },
        ).optional(),
        retention: documented(
          z.strictObject({
            runs: wholeNumber(
              "The newest finished runs whose files (checkout, step logs, artifacts) are kept " +
                `(${PIPELINE_DEFAULTS.retention.runs}); older runs' files are removed, their records stay.`,
              1,
              20,
            ).optional(),
            maxAge: documented(
              z
                .string()
                .regex(RETENTION_AGE_PATTERN)
                .refine((text) => /[1-9]/.test(text)),
              "A finished run's files are removed this long after it ended " +
                `(${PIPELINE_DEFAULTS.retention.maxAge}).`,
              {
                expected: "a duration such as 30d, 36h or 1d12h",
                example: "14d",
                suggest: (found) => {
                  const days =
                    typeof found === "string" ? /^\s*(\d+)\s*days?\s*$/i.exec(found) : null;
                  return days === null ? undefined : `${days[1]}d`;
                },
              },
            ).optional(),
            maxLogSize: size(
              "A step's log stops growing at this size: its start and its end are kept (the end " +
                "at most 16Mi), with a line saying what was cut " +
                `(${PIPELINE_DEFAULTS.retention.maxLogSize}).`,
              "10Mi",
            ).optional(),
          }),
          "How long finished runs' files are kept. A run's files go when it is not among the " +
            "newest `runs` finished runs or ended longer than `maxAge` ago; releases are kept apart " +
            "and never removed by this.",
          { expected: "{ runs, maxAge, maxLogSize }", example: { runs: 20, maxAge: "14d" } },
        ).optional(),
        steps: documented(z.array(step).min(1), "The steps, in order.", {
          expected: "a list of steps",
          example: [{ name: "test", run: "npm test" }],
        }),
      }),
      "One pipeline: a source, its triggers, its steps.",
      {
        expected: "{ source, steps }",
        example: { source: { repo: "." }, steps: [{ name: "test", run: "npm test" }] },
      },
    ),
  ),
  "Pipelines, by name: what runs on each commit, from tests to a release in production.",
  {
    expected: "a mapping of pipeline names to pipelines",
    example: { api: { source: { repo: "." }, steps: [{ name: "test", run: "npm test" }] } },
  },
  { propertyNames: { pattern: PIPELINE_NAME_PATTERN.source } },
).optional();

export type PipelinesInput = NonNullable<z.output<typeof pipelinesSchema>>;
export type StepInput = PipelinesInput[string]["steps"][number];
