import { PlanError } from "./errors.js";
import { findCycle } from "./graph.js";
import type { Plan, PlanStep } from "./plan.js";

export type StepStatus = "done" | "failed" | "skipped";

export interface StepEvent {
  readonly step: string;
  readonly status: "started" | StepStatus;
  readonly error?: unknown;
  /** Why a step was skipped. */
  readonly reason?: string;
}

export interface StepResult {
  readonly status: StepStatus;
  readonly error?: unknown;
  readonly reason?: string;
  readonly durationMs: number;
}

export interface ExecutionResult {
  /** Every step done. */
  readonly ok: boolean;
  /** By step id, in plan order. */
  readonly steps: Record<string, StepResult>;
}

/** Does one step's work; rejects when it failed. `signal` aborts when the whole run is. */
export type StepRunner = (step: PlanStep, signal: AbortSignal) => Promise<void>;

export interface ExecuteOptions {
  /** Most steps running at once: a whole number ≥ 1, or Infinity. */
  readonly parallelism: number;
  /** Once aborted, no further step starts; running ones see the same signal. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (e: StepEvent) => void;
  /** Clock for durations; tests inject one. */
  readonly now?: () => number;
}

/**
 * Runs a plan's steps, each once all the steps it comes after are done, at most
 * `parallelism` at a time, in plan order among those ready. A failure does not stop the
 * run: what depends on the failed step is skipped, everything else goes on, so one bad
 * resource does not hold the others back. Resolves once nothing is running any more;
 * rejects only on a malformed plan or when `onProgress` throws (after running steps end).
 */
export function execute(
  plan: Plan,
  run: StepRunner,
  options: ExecuteOptions,
): Promise<ExecutionResult> {
  const { parallelism } = options;
  if (!(parallelism >= 1 && (Number.isInteger(parallelism) || parallelism === Infinity))) {
    return Promise.reject(
      new RangeError(`parallelism must be a whole number ≥ 1, got ${parallelism}`),
    );
  }
  let byId: Map<string, PlanStep>;
  try {
    byId = indexSteps(plan);
  } catch (err) {
    return Promise.reject(err);
  }
  const now = options.now ?? (() => performance.now());
  const signal = options.signal ?? new AbortController().signal;

  const dependents = new Map<string, string[]>();
  for (const step of plan.steps) {
    for (const dep of step.after) dependents.set(dep, [...(dependents.get(dep) ?? []), step.id]);
  }

  const results = new Map<string, StepResult>();
  // Insertion-ordered, so ready steps start in plan order.
  const pending = new Set<string>();
  for (const step of plan.steps) {
    // Nothing to do: done at once, without asking the runner.
    if (step.change.type === "unchanged") results.set(step.id, { status: "done", durationMs: 0 });
    else pending.add(step.id);
  }

  return new Promise<ExecutionResult>((resolve, reject) => {
    let running = 0;
    let fatal: { error: unknown } | undefined;

    const emit = (event: StepEvent): void => {
      if (options.onProgress === undefined || fatal) return;
      try {
        options.onProgress(event);
      } catch (error) {
        fatal = { error };
      }
    };

    const skip = (id: string, reason: string): void => {
      pending.delete(id);
      results.set(id, { status: "skipped", reason, durationMs: 0 });
      emit({ step: id, status: "skipped", reason });
    };

    const skipDependents = (failed: string): void => {
      const reason = `depends on ${failed}, which failed`;
      const queue = [...(dependents.get(failed) ?? [])];
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        if (!pending.has(id)) continue;
        skip(id, reason);
        queue.push(...(dependents.get(id) ?? []));
      }
    };

    const start = (step: PlanStep): void => {
      pending.delete(step.id);
      running += 1;
      const startedAt = now();
      emit({ step: step.id, status: "started" });
      // Through a microtask so a runner that throws synchronously fails its step only.
      void Promise.resolve()
        .then(() => run(step, signal))
        .then(
          () => {
            running -= 1;
            results.set(step.id, { status: "done", durationMs: now() - startedAt });
            emit({ step: step.id, status: "done" });
            pump();
          },
          (error: unknown) => {
            running -= 1;
            results.set(step.id, { status: "failed", error, durationMs: now() - startedAt });
            emit({ step: step.id, status: "failed", error });
            skipDependents(step.id);
            pump();
          },
        );
    };

    const finish = (): void => {
      signal.removeEventListener("abort", pump);
      if (fatal) {
        reject(fatal.error);
        return;
      }
      const steps: Record<string, StepResult> = {};
      for (const step of plan.steps) {
        const result = results.get(step.id);
        if (result) steps[step.id] = result;
      }
      resolve({ ok: [...results.values()].every((r) => r.status === "done"), steps });
    };

    // Declared as a function so that start() and the abort listener can call it.
    function pump(): void {
      for (const id of pending) {
        if (signal.aborted || fatal || running >= parallelism) break;
        const step = byId.get(id);
        if (step?.after.every((dep) => results.get(dep)?.status === "done")) start(step);
      }
      if (signal.aborted || fatal) {
        for (const id of pending) skip(id, "aborted before it started");
      }
      if (running === 0 && pending.size === 0) finish();
    }

    signal.addEventListener("abort", pump, { once: true });
    pump();
  });
}

/**
 * Rejects plans that would never finish: a step waiting on a step that is not in the
 * plan, or steps waiting on each other. buildPlan makes neither; a hand-made plan might.
 */
function indexSteps(plan: Plan): Map<string, PlanStep> {
  const byId = new Map<string, PlanStep>();
  for (const step of plan.steps) {
    if (byId.has(step.id)) throw new Error(`plan has two steps with id ${step.id}`);
    byId.set(step.id, step);
  }
  for (const step of plan.steps) {
    const unknown = step.after.find((dep) => !byId.has(dep));
    if (unknown !== undefined) {
      throw new Error(`plan step ${step.id} comes after ${unknown}, which is not in the plan`);
    }
  }
  const cycle = findCycle([...byId.keys()], (id) => byId.get(id)?.after ?? []);
  if (cycle) {
    throw new PlanError(
      "engine.cycle",
      `plan steps wait on each other: ${cycle.join(" → ")}`,
      "build plans with buildPlan, which rejects dependency cycles",
    );
  }
  return byId;
}
