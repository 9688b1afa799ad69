/**
 * The validated `pipelines:` as written → the model: defaults filled in, durations in ms,
 * repository paths made absolute, each step typed by its action, the implicit `needs` of
 * build/deploy/promote steps made explicit, and each promotion's source environment found.
 * Runs only on input that passed the checks.
 */
import { resolve } from "node:path";
import type { PipelineSpec, PipelineStep, StepCommon, StepSecret } from "./pipeline-model.js";
import {
  PIPELINE_DEFAULTS,
  type PipelinesInput,
  RETENTION_AGE_PATTERN,
  type StepInput,
} from "./pipeline-schema.js";
import { parseDuration, parseSize } from "./units.js";

/** ssh://, https://, git://, file:// URLs and scp-like `user@host:path`: not paths. */
const URL_LIKE = /^(?:[a-z][a-z0-9+.-]*:\/\/|[^/\s:]+@[^/\s:]+:)/i;

export function buildPipelines(
  input: PipelinesInput | undefined,
  dir: string,
  environments: readonly string[],
): Record<string, PipelineSpec> {
  const pipelines: Record<string, PipelineSpec> = {};
  for (const [name, p] of Object.entries(input ?? {})) {
    const poll = p.triggers?.poll ?? PIPELINE_DEFAULTS.poll;
    const schedule = p.triggers?.schedule;
    const names: string[] = [];
    const lastEnvironment = new Map<string, string>();
    const steps = p.steps.map((s): PipelineStep => {
      const step = buildStep(s, names, lastEnvironment, dir);
      names.push(s.name);
      return step;
    });
    const home = homeEnvironment(steps, environments);
    pipelines[name] = {
      name,
      source: {
        repo: URL_LIKE.test(p.source.repo) ? p.source.repo : resolve(dir, p.source.repo),
        branch: p.source.branch ?? PIPELINE_DEFAULTS.branch,
      },
      triggers: {
        push: p.triggers?.push ?? true,
        pollMs: poll === false ? 0 : ms(poll),
        schedule:
          schedule === undefined ? [] : typeof schedule === "string" ? [schedule] : schedule,
      },
      concurrency: { cancelSuperseded: p.concurrency?.cancelSuperseded ?? true },
      retention: {
        runs: p.retention?.runs ?? PIPELINE_DEFAULTS.retention.runs,
        maxAgeMs: age(p.retention?.maxAge ?? PIPELINE_DEFAULTS.retention.maxAge),
        maxLogBytes: bytes(p.retention?.maxLogSize ?? PIPELINE_DEFAULTS.retention.maxLogSize),
      },
      steps,
      ...(home === undefined ? {} : { home }),
    };
  }
  return pipelines;
}

function buildStep(
  s: StepInput,
  before: readonly string[],
  lastEnvironment: Map<string, string>,
  dir: string,
): PipelineStep {
  const common = (implicitNeeds: readonly string[]): StepCommon => ({
    name: s.name,
    needs: s.needs ?? [...implicitNeeds],
    timeoutMs: ms(s.timeout ?? PIPELINE_DEFAULTS.timeout),
    retries: s.retries ?? PIPELINE_DEFAULTS.retries,
  });
  if (s.build !== undefined) return { kind: "build", app: s.build, ...common(before) };
  if (s.deploy !== undefined) {
    lastEnvironment.set(s.deploy.app, s.deploy.env);
    return { kind: "deploy", app: s.deploy.app, environment: s.deploy.env, ...common(before) };
  }
  if (s.promote !== undefined) {
    const { app, to } = s.promote;
    const from = lastEnvironment.get(app) ?? "";
    lastEnvironment.set(app, to);
    return {
      kind: "promote",
      app,
      from,
      to,
      approval: s.promote.approval ?? PIPELINE_DEFAULTS.approval,
      healthyForMs: ms(s.promote.after?.healthyFor ?? PIPELINE_DEFAULTS.healthyFor),
      ...common(before),
    };
  }
  const list = (value: string | string[] | undefined): string[] =>
    value === undefined ? [] : typeof value === "string" ? [value] : value;
  return {
    kind: "run",
    run: s.run ?? "",
    ...(s.image === undefined ? {} : { image: s.image }),
    ...(s.user === undefined ? {} : { user: s.user }),
    env: Object.fromEntries(Object.entries(s.env ?? {}).map(([k, v]) => [k, String(v)])),
    secrets: Object.fromEntries(
      Object.entries(s.secrets ?? {}).map(([k, v]): [string, StepSecret] => [
        k,
        "file" in v ? { kind: "file", path: resolve(dir, v.file) } : { kind: "env", name: v.env },
      ]),
    ),
    junit: list(s.reports?.junit),
    caches: (s.cache ?? []).map((c) =>
      typeof c === "string" ? { path: c, key: c } : { path: c.path, key: c.key ?? c.path },
    ),
    artifacts: list(s.artifacts),
    ...common([]),
  };
}

function ms(duration: string): number {
  const value = parseDuration(duration);
  if (value === undefined) throw new Error(`bug: ${duration} passed the schema but does not parse`);
  return value;
}

const DAY_MS = 86_400_000;

/** `30d`, `1d12h`, `36h` (RETENTION_AGE_PATTERN) in ms. */
export function parseAge(text: string): number | undefined {
  if (!RETENTION_AGE_PATTERN.test(text) || text === "") return undefined;
  const days = /^(\d+)d/.exec(text);
  const rest = days === null ? text : text.slice(days[0].length);
  const restMs = rest === "" ? 0 : parseDuration(rest);
  return restMs === undefined ? undefined : Number(days?.[1] ?? 0) * DAY_MS + restMs;
}

function age(text: string): number {
  const value = parseAge(text);
  if (value === undefined) throw new Error(`bug: ${text} passed the schema but does not parse`);
  return value;
}

function bytes(size: string | number): number {
  const value = typeof size === "number" ? size : parseSize(size);
  if (value === undefined) throw new Error(`bug: ${size} passed the schema but does not parse`);
  return value;
}

function homeEnvironment(
  steps: readonly PipelineStep[],
  environments: readonly string[],
): string | undefined {
  for (const step of steps) {
    if (step.kind === "deploy") return step.environment;
    if (step.kind === "promote") return step.from;
  }
  return environments[0];
}
