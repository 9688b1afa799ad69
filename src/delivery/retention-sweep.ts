/**
 * The controller's retention of pipeline runs' files: a sweep after each run ends and every
 * hour removes `runs/<id>/` (checkout, step logs, artifacts) of the finished runs that
 * retention lets go, and marks their records. Releases and their artifacts live elsewhere
 * (`<state>/artifacts/`, the releases table) and are never touched. A sweep runs beside the
 * runs, never in their way: it is asynchronous, one at a time, and skips a run the runner is
 * still winding down.
 */
import { rm } from "node:fs/promises";
import type { NewEvent, RunStore } from "../store/index.js";
import { runDirectory } from "./run-paths.js";
import { type PrunableRun, prunableRuns, type RunLimits } from "./run-retention.js";
import { realTimers, type Timers } from "./timers.js";

export interface RetentionSweepOptions {
  readonly store: RunStore;
  /** `<state>/runs`: each run's files are `<runsDir>/<id>/`. */
  readonly runsDir: string;
  readonly emit: (event: NewEvent) => void;
  /** A run's folder outside the state directory (its checkout), removed with its files. */
  readonly workspaceOf?: (runId: number) => string;
  /** The pipeline's retention (the definition's, or the defaults for one it no longer has). */
  readonly limitsOf: (pipeline: string) => RunLimits;
  /** A run the runner is still executing or winding down (a cancel being carried out). */
  readonly busy: (runId: number) => boolean;
  readonly timers?: Timers;
  /** Between periodic sweeps (1 h). */
  readonly everyMs?: number;
}

export interface PrunedRun extends PrunableRun {
  readonly pipeline: string;
}

const HOUR_MS = 3_600_000;

export class RetentionSweep {
  private readonly timers: Timers;
  private timer: unknown;
  private current: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly options: RetentionSweepOptions) {
    this.timers = options.timers ?? realTimers;
  }

  /** Sweeps now and then every `everyMs`; a second call does nothing. */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.schedule();
    this.request();
  }

  /** A sweep soon (after a run ended); requests during a sweep make one more after it. */
  request(): void {
    if (this.stopped) return;
    if (this.current !== undefined) {
      this.again = true;
      return;
    }
    this.current = this.drain().finally(() => {
      this.current = undefined;
    });
  }

  /** Resolves once no sweep is under way (for tests and for stopping). */
  async idle(): Promise<void> {
    while (this.current !== undefined) await this.current;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    await this.idle();
  }

  /**
   * One pass over every pipeline with runs whose files are still there; resolves with the
   * runs whose files it removed. A directory that cannot be removed is told as an event and
   * tried again next time.
   */
  async sweep(): Promise<PrunedRun[]> {
    const { store } = this.options;
    const now = this.timers.now();
    const removed: PrunedRun[] = [];
    for (const pipeline of store.pipelinesWithFiles()) {
      const candidates = prunableRuns(
        pipeline,
        store.finished(pipeline),
        this.options.limitsOf(pipeline),
        now,
      );
      for (const run of candidates) {
        if (this.options.busy(run.id)) continue;
        try {
          for (const dir of [
            runDirectory(this.options.runsDir, run.id),
            ...(this.options.workspaceOf === undefined ? [] : [this.options.workspaceOf(run.id)]),
          ]) {
            await rm(dir, { recursive: true, force: true, maxRetries: 2 });
          }
        } catch (error) {
          this.options.emit({
            type: "pipeline.error",
            message: `${pipeline}: retention could not remove the files of run #${run.id}: ${(error as Error).message}`,
            data: { pipeline, run: run.id },
          });
          continue;
        }
        if (store.setPruned(run.id, run.reason)) removed.push({ ...run, pipeline });
      }
    }
    if (removed.length > 0) {
      this.options.emit({
        type: "run.pruned",
        message: `retention removed the files of ${removed.length} finished run${removed.length === 1 ? "" : "s"}: ${describe(removed)}`,
        data: { count: removed.length, runs: removed.map((r) => r.id) },
      });
    }
    return removed;
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.sweep();
      } catch (error) {
        // A store that fails here fails elsewhere too; the sweep only says so and goes on.
        this.options.emit({
          type: "pipeline.error",
          message: `retention sweep failed: ${(error as Error).message}`,
          data: {},
        });
      }
    } while (this.again && !this.stopped);
  }

  private schedule(): void {
    this.timer = this.timers.setTimeout(() => {
      if (this.stopped) return;
      this.request();
      this.schedule();
    }, this.options.everyMs ?? HOUR_MS);
  }
}

/** Runs named in the event's message; a first sweep over a long history may remove many. */
const NAMED_RUNS = 10;

/** `api #1, #2; web #7`: the runs by pipeline, in one line (the first few of many). */
function describe(runs: readonly PrunedRun[]): string {
  const byPipeline = new Map<string, number[]>();
  for (const run of runs.slice(0, NAMED_RUNS)) {
    byPipeline.set(run.pipeline, [...(byPipeline.get(run.pipeline) ?? []), run.id]);
  }
  const named = [...byPipeline]
    .map(([name, ids]) => `${name} ${ids.map((id) => `#${id}`).join(", ")}`)
    .join("; ");
  return runs.length > NAMED_RUNS ? `${named} and ${runs.length - NAMED_RUNS} more` : named;
}
