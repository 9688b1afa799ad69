/**
 * Rules the schema cannot express: across apps (ports, dependsOn), across fields (probe kinds, backoff
 * bounds), on the file system (cwd) and inside strings (app names, `${VAR}`). They read the
 * raw YAML values defensively instead of the schema's output, so that they run even when
 * the schema found problems elsewhere: the user sees every problem at once.
 */
import { basename, resolve } from "node:path";
import { checkPrivileged } from "../security/policy/privileged.js";
import type { Accounts } from "../util/accounts.js";
import { checkAlerting } from "./alert-checks.js";
import { checkBuild } from "./build-checks.js";
import { checkDependencies } from "./dependency-checks.js";
import { envFileDiagnostics } from "./env-file-checks.js";
import type { Diagnostic } from "./errors.js";
import { type Fields, isFields } from "./fields.js";
import type { DefinitionFiles } from "./files.js";
import { checkHosts } from "./host-checks.js";
import { interpolationProblems } from "./interpolate.js";
import { checkMetrics } from "./metrics-checks.js";
import { APP_NAME_PATTERN, ENV_NAME_PATTERN, toAppName } from "./names.js";
import { describeValue, formatPath, listWords, type Path } from "./phrases.js";
import { checkPipelines } from "./pipeline-checks.js";
import { checkRunAs } from "./run-as-checks.js";
import { DEFAULTS } from "./schema.js";
import { checkSwarmApp } from "./swarm-checks.js";
import { formatDuration, parseDuration } from "./units.js";
import type { Positions, Span } from "./yaml-source.js";

export interface CheckContext {
  /** The file as shown to the user. */
  readonly file: string;
  /** Absolute folder of the definition: relative cwds start there. */
  readonly dir: string;
  readonly source: Positions;
  /** Where the folders and files the definition names are looked at. */
  readonly files: DefinitionFiles;
  /**
   * Container settings on an app that runs as processes are not reported: with environments,
   * another environment may run it as containers.
   */
  readonly containerKeysAnywhere?: boolean;
  /**
   * false for the base of a file with environments: its apps only ever run through an
   * environment (the CLI requires `--env`), whose overlay decides how and is checked apart.
   */
  readonly appsRunAsWritten?: boolean;
  /** The users and groups of the machine the replicas run on, when this is it (run-as-checks.ts). */
  readonly accounts?: Accounts;
}

export type Report = (
  code: string,
  path: Path,
  at: "key" | "value",
  message: string,
  hint: string,
  /** `span`: a place inside the value (a column of an expression), instead of all of it. */
  extra?: { expected?: string; found?: string; span?: Span },
) => void;

export type { Fields } from "./fields.js";

const PROBE_KINDS = ["http", "tcp", "exec"] as const;

export function semanticDiagnostics(raw: unknown, ctx: CheckContext): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const report: Report = (code, path, at, message, hint, { span: within, ...extra } = {}) => {
    const span = within ?? (at === "key" ? ctx.source.keySpan(path) : ctx.source.valueSpan(path));
    diagnostics.push({
      code,
      message,
      file: ctx.file,
      ...span,
      path: formatPath(path),
      ...extra,
      hint,
    });
  };
  if (isFields(raw)) checkHosts(raw, ctx, report);
  if (isFields(raw)) checkPipelines(raw, report);
  if (isFields(raw)) checkAlerting(raw, ctx.source, report);
  if (isFields(raw)) checkMetrics(raw, report);
  const apps = isFields(raw) ? raw.apps : undefined;
  const hasRegistry = isFields(raw) && raw.registry !== undefined;
  if (!isFields(apps)) return diagnostics;

  const portOwners = new Map<number, string>();
  for (const [name, app] of Object.entries(apps)) {
    const path = ["apps", name];
    checkAppName(name, report);
    if (!isFields(app)) continue;
    checkEnvNames(app.env, [...path, "env"], report);
    if (ctx.appsRunAsWritten !== false) checkCommandPresent(app, path, report);
    checkCommand(app.command, [...path, "command"], report);
    checkCommand(app.entrypoint, [...path, "entrypoint"], report);
    for (const role of ["readiness", "liveness"] as const) {
      const probe = isFields(app.health) ? app.health[role] : undefined;
      if (isFields(probe)) checkCommand(probe.exec, [...path, "health", role, "exec"], report);
    }
    checkCwd(app.cwd, [...path, "cwd"], ctx, report);
    checkProbes(app.health, [...path, "health"], report);
    checkBackoff(app.restart, [...path, "restart"], report);
    checkPort(app.port, name, portOwners, ctx, report);
    checkUpdate(app.update, [...path, "update"], report);
    checkContainer(app, path, report, ctx.containerKeysAnywhere === true);
    checkSwarmApp(app, path, report);
    checkBuild(app, path, hasRegistry, ctx, report);
    checkIgnore(app.ignore, [...path, "ignore"], report);
    // The base of a file with environments never runs: each overlay is checked, with its
    // own `allowPrivileged`.
    if (ctx.appsRunAsWritten !== false) checkPrivileged(app, path, ctx.dir, report);
    checkRunAs(app, path, ctx.appsRunAsWritten === false ? undefined : ctx.accounts, report);
    diagnostics.push(...envFileDiagnostics(app, path, ctx));
  }
  checkDependencies(apps, report);
  return diagnostics;
}

function checkAppName(name: string, report: Report): void {
  if (APP_NAME_PATTERN.test(name)) return;
  report(
    "spec.invalid_name",
    ["apps", name],
    "key",
    `${formatPath(["apps", name])} is not a valid app name: use lowercase letters, digits and -, starting with a letter, at most 63 characters`,
    `rename it \`${toAppName(name)}\`; app names become process and DNS names`,
    { expected: "a name matching [a-z][a-z0-9-]{0,62}", found: name },
  );
}

function checkEnvNames(env: unknown, path: Path, report: Report): void {
  if (!isFields(env)) return;
  for (const name of Object.keys(env)) {
    if (ENV_NAME_PATTERN.test(name)) continue;
    report(
      "spec.invalid_name",
      [...path, name],
      "key",
      `${formatPath([...path, name])} is not a valid variable name: use letters, digits and _, not starting with a digit`,
      "a shell could not read this variable; rename it",
      { expected: "a name matching [A-Za-z_][A-Za-z0-9_]*", found: name },
    );
  }
}

/**
 * A process needs its command; a container (`image`, `build`) runs its image's CMD without
 * one, as in Compose, Swarm and Kubernetes.
 */
function checkCommandPresent(app: Fields, path: Path, report: Report): void {
  if (app.command !== undefined) return;
  const containers = app.runtime === "docker" || app.runtime === "swarm" || app.build !== undefined;
  if (containers) return;
  report(
    "spec.missing_field",
    path,
    "key",
    `${formatPath([...path, "command"])} is required`,
    `add \`command: ["node", "server.js"]\` under \`${String(path.at(-1))}:\`${app.image === undefined ? "" : ", or `runtime: docker` to run the image's own command"}`,
    { expected: "a command", found: "none" },
  );
}

function checkCommand(command: unknown, path: Path, report: Report): void {
  if (!Array.isArray(command)) return;
  if (command[0] === "") {
    report(
      "spec.invalid_value",
      [...path, 0],
      "value",
      `${formatPath([...path, 0])} must name the program to run, found an empty string`,
      'the first item is the program, e.g. `["node", "server.js"]`',
    );
  }
  for (const [index, item] of command.entries()) {
    if (typeof item !== "string") continue;
    for (const problem of interpolationProblems(item)) {
      report(
        "spec.invalid_variable",
        [...path, index],
        "value",
        `${formatPath([...path, index])}: ${problem.message}`,
        problem.hint,
      );
    }
  }
}

function checkCwd(cwd: unknown, path: Path, ctx: CheckContext, report: Report): void {
  if (typeof cwd !== "string" || cwd === "") return;
  const absolute = resolve(ctx.dir, cwd);
  const where = `it resolves to ${absolute} (relative to the folder of ${basename(ctx.file)})`;
  const kind = ctx.files.kind(absolute);
  if (kind === undefined) {
    report(
      "spec.cwd_missing",
      path,
      "value",
      `${formatPath(path)} \`${cwd}\` does not exist`,
      `create the directory or fix the path; ${where}`,
      { expected: "an existing directory", found: absolute },
    );
  } else if (kind !== "dir") {
    report(
      "spec.cwd_not_directory",
      path,
      "value",
      `${formatPath(path)} \`${cwd}\` is not a directory`,
      `point it at a directory; ${where}`,
      { expected: "an existing directory", found: absolute },
    );
  }
}

function checkProbes(health: unknown, path: Path, report: Report): void {
  if (!isFields(health)) return;
  for (const role of ["readiness", "liveness"] as const) {
    const probe = health[role];
    if (!isFields(probe)) continue;
    const probePath = [...path, role];
    const kinds = PROBE_KINDS.filter((kind) => Object.hasOwn(probe, kind));
    const [first, second] = kinds;
    if (first === undefined) {
      report(
        "spec.missing_field",
        probePath,
        "key",
        `${formatPath(probePath)} needs one of \`http\`, \`tcp\` or \`exec\``,
        `add how to check, e.g. \`${role}: { http: /healthz }\``,
        { expected: "one of http, tcp or exec" },
      );
    } else if (second !== undefined) {
      report(
        "spec.conflicting_keys",
        [...probePath, second],
        "key",
        `${formatPath(probePath)} has both ${listWords(kinds.map((k) => `\`${k}\``))}; a probe checks one way`,
        `keep only one of ${listWords(
          kinds.map((k) => `\`${k}\``),
          "or",
        )}`,
        { expected: "exactly one of http, tcp or exec", found: kinds.join(", ") },
      );
    }
  }
}

function checkBackoff(restart: unknown, path: Path, report: Report): void {
  const fields: Fields = isFields(restart) ? restart : {};
  const backoffText = fields.backoff ?? DEFAULTS.restart.backoff;
  const maxText = fields.maxBackoff ?? DEFAULTS.restart.maxBackoff;
  if (typeof backoffText !== "string" || typeof maxText !== "string") return;
  const backoff = parseDuration(backoffText);
  const max = parseDuration(maxText);
  if (backoff === undefined || max === undefined || max >= backoff) return;
  if (fields.maxBackoff !== undefined) {
    report(
      "spec.invalid_value",
      [...path, "maxBackoff"],
      "value",
      `${formatPath([...path, "maxBackoff"])} must be at least backoff (${formatDuration(backoff)}), found ${describeValue(maxText)}`,
      "maxBackoff caps a delay that starts at backoff and grows; raise it or lower backoff",
      { expected: `a duration ≥ ${formatDuration(backoff)}`, found: maxText },
    );
  } else {
    report(
      "spec.invalid_value",
      [...path, "backoff"],
      "value",
      `${formatPath([...path, "backoff"])} must be at most maxBackoff (${DEFAULTS.restart.maxBackoff} by default), found ${describeValue(backoffText)}`,
      `add \`maxBackoff: ${formatDuration(backoff)}\` or more, or lower backoff`,
      { expected: `a duration ≤ ${DEFAULTS.restart.maxBackoff}`, found: backoffText },
    );
  }
}

function checkPort(
  port: unknown,
  name: string,
  owners: Map<number, string>,
  ctx: CheckContext,
  report: Report,
): void {
  // An invalid port is the schema's to report; a conflict on it would only add noise.
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) return;
  const owner = owners.get(port);
  if (owner === undefined) {
    owners.set(port, name);
    return;
  }
  const ownerLine = ctx.source.valueSpan(["apps", owner, "port"]).line;
  report(
    "spec.port_conflict",
    ["apps", name, "port"],
    "value",
    `${formatPath(["apps", name, "port"])} ${port} is already the port of app \`${owner}\` (line ${ownerLine})`,
    "the proxy serves one app per port; give this app another port",
    { expected: "a port not used by another app", found: String(port) },
  );
}

/**
 * Both budgets 0: no replica may be added and none may go, so a rollout could never move.
 * With `strategy: recreate` the budgets would do nothing (every old replica goes first, as
 * Kubernetes' Recreate, which refuses them too): writing one is a mistake worth saying.
 */
function checkUpdate(update: unknown, path: Path, report: Report): void {
  if (!isFields(update)) return;
  if (update.strategy === "recreate") {
    for (const key of ["maxSurge", "maxUnavailable"]) {
      if (update[key] === undefined) continue;
      report(
        "spec.invalid_value",
        [...path, key],
        "key",
        `${formatPath([...path, key])} applies to rolling updates, but ${formatPath([...path, "strategy"])} is recreate`,
        `remove \`${key}\`: recreate stops every old replica before it starts a new one (in an environment's overrides, \`${key}: null\` removes it)`,
        { expected: `no ${key} with strategy: recreate`, found: `${key}: ${String(update[key])}` },
      );
    }
    return;
  }
  const isZero = (value: unknown) => value === 0 || value === "0%";
  if (isZero(update.maxSurge) && isZero(update.maxUnavailable)) {
    report(
      "spec.invalid_value",
      [...path, "maxUnavailable"],
      "value",
      `${formatPath(path)}: maxSurge and maxUnavailable are both 0, so a rollout could neither add a new replica nor take an old one away`,
      "allow one extra replica during rollouts with `maxSurge: 1` (or let one be unavailable with `maxUnavailable: 1`)",
      { expected: "maxSurge or maxUnavailable above 0", found: "both 0" },
    );
  }
}

function checkIgnore(ignore: unknown, path: Path, report: Report): void {
  if (!Array.isArray(ignore)) return;
  for (const [index, pattern] of ignore.entries()) {
    if (typeof pattern !== "string" || !pattern.startsWith("!")) continue;
    report(
      "spec.invalid_value",
      [...path, index],
      "value",
      `${formatPath([...path, index])}: negated patterns (\`${pattern}\`) are not supported`,
      "list only what to leave out; narrow a broad pattern instead of re-including files",
      { expected: "a pattern such as *.log or data/", found: pattern },
    );
  }
}

/** A container app needs an image; container settings on a process app would do nothing. */
function checkContainer(app: Fields, path: Path, report: Report, keysAnywhere: boolean): void {
  // `build:` implies containers; build-checks.ts covers how it combines with the rest.
  if (app.runtime === "docker" || app.runtime === "swarm" || app.build !== undefined) {
    if (app.image === undefined && app.build === undefined) {
      report(
        "spec.missing_field",
        [...path, "runtime"],
        "value",
        `${formatPath(path)} runs as containers (runtime: ${String(app.runtime)}) but has no \`image\``,
        "add `image: NAME:TAG` (an image on the local Docker engine), or `build: ./folder` to build one",
        { expected: `an image with runtime: ${String(app.runtime)}`, found: "no image" },
      );
    }
    return;
  }
  if (keysAnywhere) return;
  for (const key of ["image", "entrypoint", "resources", "capabilities", "volumes"]) {
    if (app[key] === undefined) continue;
    report(
      "spec.invalid_value",
      [...path, key],
      "key",
      `${formatPath([...path, key])} applies to containers, but ${formatPath(path)} runs as processes`,
      "add `runtime: docker` to run the app as containers, or remove this key",
      { expected: "runtime: docker", found: `runtime: ${String(app.runtime ?? "process")}` },
    );
  }
}
