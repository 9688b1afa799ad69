/**
 * Everything one host needs in as few round trips as possible: all probes of all its
 * resources in one exec (observeAll), all steps of all its changed resources in another
 * (applyAll), its notified handlers in a third (runHandlers). A step that fails stops the
 * host there, as Ansible stops a host at its first failed task.
 */
import type { CommandResource, HostResource } from "../definition/host-model.js";
import {
  applyScript,
  newBoundary,
  observeScript,
  parseApplyOutput,
  parseObserveOutput,
} from "./batch-script.js";
import { moduleFor } from "./modules/index.js";
import type {
  ApplyStep,
  FieldChange,
  HostModule,
  PlannedResource,
  ProbeResult,
} from "./modules/module.js";
import type { ExecOptions, ExecResult, FileStat, Transport, WriteOptions } from "./transport.js";

const SHELL = ["sh", "-s"];

export interface BatchOptions {
  /** Passed to the transport's exec: the whole batch gives up after this long. */
  readonly timeoutMs?: number;
}

export interface Observation {
  /** Each probe's result, by probe id. */
  readonly results: ReadonlyMap<string, ProbeResult>;
  /** What differs; [] when in state (or when observing failed: see error). */
  readonly changes: readonly FieldChange[];
  /** Why a resource in state is left alone, when the module says ("skipped: /x exists"). */
  readonly note?: string;
  /** Observing this resource failed: it can be neither planned nor applied. */
  readonly error?: string;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The reason a batch script did not run to its end, from the exec's own result. */
function brokenBatch(what: string, result: ExecResult): string {
  const stderr = result.stderr.toString("utf8").trim();
  return `the host stopped answering while ${what} (sh exited ${result.code}${stderr ? `: ${stderr}` : ""})`;
}

/** Observes every resource in one exec and plans each one. */
export async function observeAll<K>(
  transport: Transport,
  items: readonly { readonly key: K; readonly resource: HostResource }[],
  options: BatchOptions = {},
): Promise<Map<K, Observation>> {
  const observations = new Map<K, Observation>();
  const planned: { key: K; resource: HostResource; probeIds: string[]; first: number }[] = [];
  const argvs: (readonly string[])[] = [];
  for (const { key, resource } of items) {
    try {
      const probes = moduleFor(resource).probes(resource);
      planned.push({ key, resource, probeIds: probes.map((p) => p.id), first: argvs.length });
      argvs.push(...probes.map((probe) => probe.argv));
    } catch (error) {
      observations.set(key, { results: new Map(), changes: [], error: message(error) });
    }
  }
  let output: ReturnType<typeof parseObserveOutput> = { results: new Map(), complete: true };
  let broken: string | undefined;
  if (argvs.length > 0) {
    const boundary = newBoundary();
    const result = await transport.exec(SHELL, {
      stdin: observeScript(argvs, boundary),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    output = parseObserveOutput(result.stdout, boundary);
    if (!output.complete) broken = brokenBatch("observing", result);
  }
  for (const { key, resource, probeIds, first } of planned) {
    const results = new Map<string, ProbeResult>();
    probeIds.forEach((id, offset) => {
      const result = output.results.get(first + offset);
      if (result !== undefined) results.set(id, result);
    });
    if (results.size < probeIds.length && broken !== undefined) {
      observations.set(key, { results, changes: [], error: broken });
      continue;
    }
    const module = moduleFor(resource);
    try {
      const changes = module.diff(resource, results);
      const note = changes.length === 0 ? module.note?.(resource, results) : undefined;
      observations.set(key, { results, changes, ...(note === undefined ? {} : { note }) });
    } catch (error) {
      observations.set(key, { results, changes: [], error: message(error) });
    }
  }
  return observations;
}

export type ApplyStatus = "changed" | "unchanged" | "failed" | "skipped";

export interface ApplyOutcome {
  /** unchanged: nothing differed; skipped: an earlier resource failed, so this one never ran. */
  readonly status: ApplyStatus;
  /** For a failure: what failed, its exit code and stderr. */
  readonly error?: string;
}

export interface ApplyItem<K> extends PlannedResource {
  readonly key: K;
}

/** Resources whose steps run together: one, or several a module merged. */
interface Unit<K> {
  readonly keys: readonly K[];
  readonly steps: readonly ApplyStep[];
}

function describeFailure(
  step: ApplyStep,
  failed: { code: number; stderr: string; stdout: string },
): string {
  const output = (failed.stderr.trim() || failed.stdout.trim()).split("\n").slice(-20).join("\n");
  // A step's inline script says nothing to a reader of the error: its arguments do.
  const command = step.argv
    .map((arg) => (arg.includes("\n") || arg.length > 80 ? "…" : arg))
    .join(" ");
  return `${command} exited ${failed.code}${output ? `: ${output}` : ""}`;
}

/** Runs the units' steps in one exec; each unit's keys get the unit's outcome. */
async function runUnits<K>(
  transport: Transport,
  units: readonly Unit<K>[],
  options: BatchOptions,
): Promise<Map<K, ApplyOutcome>> {
  const outcomes = new Map<K, ApplyOutcome>();
  const steps = units.flatMap((unit) => unit.steps);
  if (steps.length === 0) {
    for (const unit of units) for (const key of unit.keys) outcomes.set(key, { status: "changed" });
    return outcomes;
  }
  const boundary = newBoundary();
  const result = await transport.exec(SHELL, {
    stdin: applyScript(steps, boundary),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  const output = parseApplyOutput(result.stdout, boundary);
  let first = 0;
  for (const unit of units) {
    const last = first + unit.steps.length; // one past the unit's last step
    let outcome: ApplyOutcome;
    if (last <= output.succeeded) outcome = { status: "changed" };
    else if (output.failed !== undefined && output.failed.index < last) {
      outcome =
        output.failed.index >= first
          ? {
              status: "failed",
              error: describeFailure(steps[output.failed.index]!, output.failed),
            }
          : { status: "skipped" };
    } else if (!output.complete && first <= output.succeeded) {
      outcome = { status: "failed", error: brokenBatch("applying", result) };
    } else outcome = { status: "skipped" };
    for (const key of unit.keys) outcomes.set(key, outcome);
    first = last;
  }
  return outcomes;
}

/**
 * Applies every item's changes in one exec, in order; consecutive items of a module that
 * merges (package) share commands. Items without changes are "unchanged".
 */
export async function applyAll<K>(
  transport: Transport,
  items: readonly ApplyItem<K>[],
  options: BatchOptions = {},
): Promise<Map<K, ApplyOutcome>> {
  const outcomes = new Map<K, ApplyOutcome>();
  const units: Unit<K>[] = [];
  const changed = items.filter((item) => {
    if (item.changes.length > 0) return true;
    outcomes.set(item.key, { status: "unchanged" });
    return false;
  });
  let stopped: { keys: K[]; error: string } | undefined;
  for (let index = 0; index < changed.length && stopped === undefined; ) {
    const item = changed[index]!;
    const module = moduleFor(item.resource) as HostModule;
    let end = index + 1;
    if (module.merge !== undefined) {
      while (end < changed.length && changed[end]!.resource.module === item.resource.module) end++;
    }
    const group = changed.slice(index, end);
    try {
      const steps =
        module.merge !== undefined
          ? module.merge(group)
          : module.apply(item.resource, item.changes, item.results);
      units.push({ keys: group.map((member) => member.key), steps });
    } catch (error) {
      // The host stops at a resource it cannot even say how to change.
      stopped = { keys: group.map((member) => member.key), error: message(error) };
    }
    index = end;
  }
  for (const [key, outcome] of await runUnits(transport, units, options)) {
    outcomes.set(key, outcome);
  }
  if (stopped !== undefined) {
    const ran = units.every((unit) =>
      unit.keys.every((key) => outcomes.get(key)?.status === "changed"),
    );
    for (const key of stopped.keys) {
      outcomes.set(key, ran ? { status: "failed", error: stopped.error } : { status: "skipped" });
    }
  }
  for (const item of changed)
    if (!outcomes.has(item.key)) outcomes.set(item.key, { status: "skipped" });
  return outcomes;
}

/** Runs notified handlers (each once, in the order given) in one exec; by handler name. */
export function runHandlers(
  transport: Transport,
  handlers: readonly CommandResource[],
  options: BatchOptions = {},
): Promise<Map<string, ApplyOutcome>> {
  const units = handlers.map((handler) => ({
    keys: [handler.name],
    steps: [{ argv: handler.argv }],
  }));
  return runUnits(transport, units, options);
}

/** A transport that counts its round trips (execs and file calls), for tests and benchmarks. */
export class CountingTransport implements Transport {
  roundTrips = 0;

  constructor(private readonly inner: Transport) {}

  get host(): string {
    return this.inner.host;
  }

  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    this.roundTrips++;
    return this.inner.exec(argv, options);
  }

  readFile(path: string): Promise<Buffer | undefined> {
    this.roundTrips++;
    return this.inner.readFile(path);
  }

  writeFile(path: string, data: string | Buffer, options?: WriteOptions): Promise<void> {
    this.roundTrips++;
    return this.inner.writeFile(path, data, options);
  }

  stat(path: string): Promise<FileStat | undefined> {
    this.roundTrips++;
    return this.inner.stat(path);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
