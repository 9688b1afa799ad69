/**
 * Rules of `pipelines:` the schema cannot express: one action per step (`run`, `build`,
 * `deploy` or `promote`), the fields that belong to `run` steps only, unique step names,
 * `needs` that name steps of the pipeline without a cycle, apps and environments that exist,
 * apps a `build` or `deploy` step can build, a promotion that has an environment to come
 * from, and cron expressions that parse. Like checks.ts, it reads the raw YAML defensively so
 * that every problem is reported at once.
 */
import { posix } from "node:path";
import type { Report } from "./checks.js";
import { validateCronExpression } from "./cron-syntax.js";
import { type Fields, isFields } from "./fields.js";
import { formatPath, listWords, type Path } from "./phrases.js";
import { closestMatch } from "./suggest.js";

const ACTIONS = ["run", "build", "deploy", "promote"] as const;
const RUN_ONLY = ["image", "user", "env", "secrets", "reports", "cache", "artifacts"] as const;
/** `baton run logs RUN`, `baton run cancel RUN`: such a pipeline could never be run by name. */
const RESERVED_NAMES: readonly string[] = ["logs", "cancel"];

export function checkPipelines(raw: Fields, report: Report): void {
  const pipelines = isFields(raw.pipelines) ? raw.pipelines : {};
  const apps = isFields(raw.apps) ? raw.apps : {};
  const environments = isFields(raw.environments) ? Object.keys(raw.environments) : [];
  for (const [name, pipeline] of Object.entries(pipelines)) {
    const path: Path = ["pipelines", name];
    if (RESERVED_NAMES.includes(name)) {
      report(
        "spec.reserved_name",
        path,
        "key",
        `${formatPath(path)}: ${name} is a word of the CLI (\`baton run ${name} RUN\`), not a pipeline name`,
        `name the pipeline otherwise, e.g. ${name}-pipeline`,
      );
    }
    if (!isFields(pipeline)) continue;
    checkSchedules(pipeline.triggers, [...path, "triggers", "schedule"], report);
    if (Array.isArray(pipeline.steps)) {
      checkSteps(pipeline.steps, [...path, "steps"], { apps, environments }, report);
      checkEnvironmentStates(pipeline.steps, [...path, "steps"], raw.environments, report);
    }
  }
}

interface Known {
  readonly apps: Fields;
  readonly environments: readonly string[];
}

function checkSteps(steps: readonly unknown[], path: Path, known: Known, report: Report): void {
  const names = steps.map((s) => (isFields(s) && typeof s.name === "string" ? s.name : undefined));
  const seen = new Map<string, number>();
  /** Where each app was last deployed or promoted to, in step order: where a promotion comes from. */
  const lastEnvironment = new Map<string, string>();
  steps.forEach((step, i) => {
    if (!isFields(step)) return;
    const at: Path = [...path, i];
    const name = names[i];
    if (name !== undefined) {
      const first = seen.get(name);
      if (first !== undefined) {
        report(
          "spec.duplicate_step",
          [...at, "name"],
          "value",
          `${formatPath(at)} is named ${name}, like ${formatPath([...path, first])}`,
          "give each step of a pipeline its own name",
        );
      } else seen.set(name, i);
    }
    const actions = ACTIONS.filter((a) => step[a] !== undefined);
    if (actions.length !== 1) {
      report(
        "spec.invalid_step",
        at,
        "value",
        actions.length === 0
          ? `${formatPath(at)} does nothing: it has none of ${listWords([...ACTIONS], "or")}`
          : `${formatPath(at)} has ${listWords(actions)}: a step does one thing`,
        actions.length === 0
          ? "add `run: <command>`, `build: <app>`, `deploy: { app, env }` or `promote: { app, to }`"
          : "split it into one step per action, ordered with `needs:`",
      );
    }
    const action = actions.length === 1 ? actions[0] : undefined;
    if (action !== undefined && action !== "run") {
      for (const field of RUN_ONLY) {
        if (step[field] === undefined) continue;
        report(
          "spec.invalid_step",
          [...at, field],
          "key",
          `${formatPath([...at, field])} belongs to \`run\` steps; this one is a \`${action}\` step`,
          `remove \`${field}\`, or move it to the step that runs the command`,
        );
      }
    }
    if (step.user !== undefined && step.image !== undefined) {
      report(
        "spec.invalid_step",
        [...at, "user"],
        "key",
        `${formatPath([...at, "user"])} is for steps on the host; this one runs in a container of ${String(step.image)}, as its image's user`,
        "remove `user:` (set the user in the image), or remove `image:` to run on the host",
      );
    }
    checkNeeds(step.needs, [...at, "needs"], name, names, report);
    if (action === "build") checkApp(step.build, [...at, "build"], known, report, "build");
    if (action === "deploy" && isFields(step.deploy)) {
      const { app, env } = step.deploy;
      checkApp(app, [...at, "deploy", "app"], known, report, "deploy");
      checkEnvironment(env, [...at, "deploy", "env"], known, report);
      if (typeof app === "string" && typeof env === "string") lastEnvironment.set(app, env);
    }
    if (action === "promote" && isFields(step.promote)) {
      const { app, to } = step.promote;
      checkApp(app, [...at, "promote", "app"], known, report, "promote");
      checkEnvironment(to, [...at, "promote", "to"], known, report);
      if (typeof app === "string") {
        const from = lastEnvironment.get(app);
        if (from === undefined) {
          report(
            "spec.promote_without_source",
            [...at, "promote"],
            "value",
            `${formatPath(at)} promotes ${app}, but no step before it deploys ${app} to an environment to promote from`,
            `add a step \`deploy: { app: ${app}, env: dev }\` before it`,
          );
        } else if (from === to) {
          report(
            "spec.invalid_step",
            [...at, "promote", "to"],
            "value",
            `${formatPath(at)} promotes ${app} from ${from} to ${from}: nothing to promote`,
            "promote to the next environment (dev → staging → prod)",
          );
        }
        if (typeof to === "string") lastEnvironment.set(app, to);
      }
    }
  });
  checkCycles(steps, names, path, report);
}

function checkNeeds(
  needs: unknown,
  path: Path,
  name: string | undefined,
  names: readonly (string | undefined)[],
  report: Report,
): void {
  if (!Array.isArray(needs)) return;
  const known = names.filter((n): n is string => n !== undefined && n !== name);
  needs.forEach((need, j) => {
    if (typeof need !== "string") return;
    if (need === name) {
      report(
        "spec.invalid_needs",
        [...path, j],
        "value",
        `${formatPath(path)} names the step itself`,
        "a step cannot wait for itself: remove it from `needs`",
      );
    } else if (!known.includes(need)) {
      const close = closestMatch(need, known);
      report(
        "spec.unknown_step",
        [...path, j],
        "value",
        `${formatPath([...path, j])} names ${need}, which is not a step of this pipeline`,
        close !== undefined
          ? `did you mean \`${close}\`?`
          : `steps are ${listWords(known) || "none other"}`,
        { expected: "a step name", found: need },
      );
    }
  });
}

/** A cycle of `needs` would wait forever: reported once, at its first step. */
function checkCycles(
  steps: readonly unknown[],
  names: readonly (string | undefined)[],
  path: Path,
  report: Report,
): void {
  const needsOf = (name: string): string[] => {
    const step = steps[names.indexOf(name)];
    return isFields(step) && Array.isArray(step.needs)
      ? step.needs.filter((n): n is string => typeof n === "string" && names.includes(n))
      : [];
  };
  const done = new Set<string>();
  for (const start of names) {
    if (start === undefined || done.has(start)) continue;
    const trail: string[] = [];
    const visit = (name: string): string[] | undefined => {
      if (trail.includes(name)) return [...trail.slice(trail.indexOf(name)), name];
      if (done.has(name)) return undefined;
      trail.push(name);
      for (const need of needsOf(name)) {
        const cycle = visit(need);
        if (cycle !== undefined) return cycle;
      }
      trail.pop();
      done.add(name);
      return undefined;
    };
    const cycle = visit(start);
    if (cycle === undefined) continue;
    for (const n of cycle) done.add(n);
    const at: Path = [...path, names.indexOf(cycle[0] as string), "needs"];
    report(
      "spec.needs_cycle",
      at,
      "value",
      `the steps ${cycle.join(" → ")} wait for each other: none of them could ever start`,
      "remove one of these `needs` to break the cycle",
    );
  }
}

/**
 * A step's app exists; a `build` or `deploy` step's app can be built: a deploy builds the
 * run's commit itself when no step built it before (a promotion's app was deployed before
 * it, where that is checked).
 */
function checkApp(
  app: unknown,
  path: Path,
  known: Known,
  report: Report,
  action: "build" | "deploy" | "promote",
): void {
  if (typeof app !== "string") return;
  const spec = known.apps[app];
  if (spec === undefined) {
    const close = closestMatch(app, Object.keys(known.apps));
    report(
      "spec.unknown_app",
      path,
      "value",
      `${formatPath(path)} names ${app}, which is not an app of \`apps:\``,
      close !== undefined ? `did you mean \`${close}\`?` : "add the app under `apps:`",
      { expected: "an app name", found: app },
    );
  } else if (
    action !== "promote" &&
    isFields(spec) &&
    spec.build === undefined &&
    spec.image !== undefined
  ) {
    // A process app (no image) is released as an artifact of its files; an app that names
    // its image has nothing Baton could build, so no release a pipeline could deploy.
    report(
      "spec.app_without_build",
      path,
      "value",
      action === "build"
        ? `${formatPath(path)} builds ${app}, which runs the image ${String(spec.image)} and has no \`build:\``
        : `${formatPath(path)} deploys ${app}, which runs the image ${String(spec.image)} and has no \`build:\`: a pipeline deploys what it builds from the run's commit`,
      action === "build"
        ? `add \`build: { context: . }\` to apps.${app} (in place of \`image:\`), so Baton knows how to build its image`
        : `add \`build: { context: . }\` to apps.${app} (in place of \`image:\`) for the pipeline to build its image from each commit, or take this step out: \`baton apply\` rolls ${app} out when its \`image:\` changes`,
    );
  }
}

function checkEnvironment(env: unknown, path: Path, known: Known, report: Report): void {
  if (typeof env !== "string" || known.environments.includes(env)) return;
  const close = closestMatch(env, [...known.environments]);
  report(
    "spec.unknown_environment",
    path,
    "value",
    `${formatPath(path)} names the environment ${env}, which \`environments:\` does not declare`,
    close !== undefined
      ? `did you mean \`${close}\`?`
      : `declare it: \`environments: { ${env}: {} }\``,
    { expected: "an environment name", found: env },
  );
}

/**
 * A pipeline runs in the controller of its home environment (where it first deploys); every
 * other environment it deploys or promotes to is reached through that environment's
 * controller, found by the state directory the environment declares.
 */
function checkEnvironmentStates(
  steps: readonly unknown[],
  path: Path,
  declared: unknown,
  report: Report,
): void {
  const environments = isFields(declared) ? declared : {};
  const stateOf = (env: string): string | undefined => {
    const spec = environments[env];
    return isFields(spec) && typeof spec.state === "string" ? normalize(spec.state) : undefined;
  };
  const targets: { env: string; at: Path }[] = [];
  steps.forEach((step, i) => {
    if (!isFields(step)) return;
    if (isFields(step.deploy) && typeof step.deploy.env === "string") {
      targets.push({ env: step.deploy.env, at: [...path, i, "deploy", "env"] });
    }
    if (isFields(step.promote) && typeof step.promote.to === "string") {
      targets.push({ env: step.promote.to, at: [...path, i, "promote", "to"] });
    }
  });
  const home = targets[0]?.env;
  if (home === undefined) return;
  const homeState = stateOf(home) ?? DEFAULT_STATE;
  const reported = new Set<string>();
  for (const { env, at } of targets) {
    if (env === home || reported.has(env) || environments[env] === undefined) continue;
    reported.add(env);
    const state = stateOf(env);
    if (state === undefined) {
      report(
        "spec.environment_state_missing",
        at,
        "value",
        `${formatPath(at)} reaches ${env} from this pipeline's controller (${home}'s, where it first deploys), but environments.${env} has no \`state:\` to find ${env}'s controller by`,
        `give ${env}'s controller its own state directory: \`environments: { ${env}: { state: .baton-${env} } }\`, and run it with \`baton up --env ${env}\``,
      );
    } else if (state === homeState) {
      report(
        "spec.environment_state_shared",
        ["environments", env, "state"],
        "value",
        `environments.${env}.state is ${state}, the state directory of ${home} too: one state directory holds one environment`,
        `give ${env} a state directory of its own, e.g. .baton-${env}`,
        { expected: `a state directory other than ${home}'s`, found: state },
      );
    }
  }
}

/** The state directory of an environment that declares none (`.baton/` beside the definition). */
const DEFAULT_STATE = ".baton";

function normalize(dir: string): string {
  return posix.normalize(dir).replace(/\/+$/, "");
}

function checkSchedules(triggers: unknown, path: Path, report: Report): void {
  if (!isFields(triggers)) return;
  const schedule = triggers.schedule;
  const list = typeof schedule === "string" ? [schedule] : Array.isArray(schedule) ? schedule : [];
  list.forEach((expr, j) => {
    if (typeof expr !== "string") return;
    const problem = validateCronExpression(expr);
    if (problem === undefined) return;
    const at = typeof schedule === "string" ? path : [...path, j];
    report(
      "spec.invalid_schedule",
      at,
      "value",
      `${formatPath(at)} is not a cron expression: ${problem}`,
      'write five fields — minute hour day-of-month month day-of-week — e.g. "0 3 * * *" (03:00 every day)',
      { expected: "a cron expression", found: expr },
    );
  });
}
