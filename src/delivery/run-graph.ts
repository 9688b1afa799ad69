/**
 * The order of a run's steps: every step starts as soon as the steps it needs have passed (at
 * most `parallel` at once), a step whose need did not pass is skipped, and a cancel stops the
 * steps that run and skips the rest. What a step does is the caller's (`execute`): this file
 * only decides when, and what the run's outcome is.
 */
import type { PipelineStep } from "../definition/index.js";

export type StepEnd = "passed" | "failed" | "timed-out" | "cancelled";

export interface StepOutcome {
  readonly state: StepEnd;
  /** One line: why it failed, what it made. */
  readonly detail?: string;
}

export interface RunOutcome {
  readonly state: "passed" | "failed" | "cancelled";
  /** Which step ended the run, and how; undefined when it passed. */
  readonly reason?: string;
}

export interface RunGraphOptions {
  readonly steps: readonly PipelineStep[];
  /** Runs one step; resolves (never rejects) with how it ended; stops when `signal` aborts. */
  readonly execute: (step: PipelineStep, signal: AbortSignal) => Promise<StepOutcome>;
  /** Each change of a step's state, for the store and the live view. */
  readonly onStep?: (name: string, state: "running" | "skipped" | StepEnd, detail?: string) => void;
  /** Cancels the run. */
  readonly signal?: AbortSignal;
  /** Steps running at once. */
  readonly parallel?: number;
}

export function executeRunGraph(options: RunGraphOptions): Promise<RunOutcome> {
  const { steps, execute } = options;
  const parallel = Math.max(1, options.parallel ?? steps.length);
  const ended = new Map<string, StepEnd | "skipped">();
  const running = new Map<string, AbortController>();
  let firstFailure: string | undefined;

  return new Promise((resolve) => {
    const cancelled = () => options.signal?.aborted === true;
    const finish = (): void => {
      if (cancelled()) resolve({ state: "cancelled", reason: "the run was cancelled" });
      else if (firstFailure !== undefined) resolve({ state: "failed", reason: firstFailure });
      else resolve({ state: "passed" });
    };
    const skip = (step: PipelineStep, why: string): void => {
      ended.set(step.name, "skipped");
      options.onStep?.(step.name, "skipped", why);
    };
    const pump = (): void => {
      for (const step of steps) {
        if (ended.has(step.name) || running.has(step.name)) continue;
        if (cancelled()) {
          skip(step, "the run was cancelled");
          continue;
        }
        const blocked = step.needs.find((n) => {
          const state = ended.get(n);
          return state !== undefined && state !== "passed";
        });
        if (blocked !== undefined) {
          skip(step, `${blocked} did not pass`);
          continue;
        }
        if (!step.needs.every((n) => ended.get(n) === "passed")) continue;
        if (running.size >= parallel) continue;
        start(step);
      }
      if (running.size === 0) finish();
    };
    const start = (step: PipelineStep): void => {
      const controller = new AbortController();
      running.set(step.name, controller);
      options.onStep?.(step.name, "running");
      void execute(step, controller.signal)
        .catch(
          (error: unknown): StepOutcome => ({
            state: "failed",
            detail: error instanceof Error ? error.message : String(error),
          }),
        )
        .then((outcome) => {
          running.delete(step.name);
          ended.set(step.name, outcome.state);
          if (outcome.state !== "passed" && outcome.state !== "cancelled" && !firstFailure) {
            firstFailure = `${step.name} ${outcome.state === "timed-out" ? "timed out" : "failed"}${
              outcome.detail === undefined ? "" : `: ${outcome.detail}`
            }`;
          }
          options.onStep?.(step.name, outcome.state, outcome.detail);
          pump();
        });
    };
    options.signal?.addEventListener(
      "abort",
      () => {
        for (const controller of running.values()) controller.abort();
      },
      { once: true },
    );
    pump();
  });
}
