import { realTimers, type Timers } from "../timers.js";
import { type CronOptions, nextFire } from "./cron.js";

export interface ScheduleFire {
  readonly pipeline: string;
  /** The cron expression that fired. */
  readonly cron: string;
  /** The time it was due (not the moment the timer woke). */
  readonly at: Date;
}

export interface ScheduleWatchOptions extends CronOptions {
  /** Starts a run of the pipeline's branch head. If it throws, onError hears of it. */
  readonly onFire: (fire: ScheduleFire) => void | Promise<void>;
  readonly onError: (pipeline: string, error: unknown) => void;
  readonly timers?: Timers;
}

/** Node cannot wait longer than ~24.8 days in one timer; longer waits are taken in steps. */
const LONGEST_WAIT_MS = 2 ** 31 - 1;

interface Entry {
  readonly pipeline: string;
  readonly cron: string;
  due: number;
  timer: unknown;
}

/**
 * Fires each pipeline's cron schedules. Times missed while the controller was down are not
 * made up for; after a stall (a suspended machine, a clock set forward) a schedule fires once,
 * not once per missed time. Two expressions of one pipeline due at the same instant fire once.
 */
export class ScheduleWatch {
  private readonly entries = new Map<string, Entry[]>();
  private readonly lastFired = new Map<string, number>();
  private readonly timers: Timers;

  constructor(private readonly options: ScheduleWatchOptions) {
    this.timers = options.timers ?? realTimers;
  }

  /**
   * The pipeline's schedules become `crons` (none: it has no schedule). Throws a
   * DeliveryError for an invalid expression, leaving the pipeline's schedules as they were.
   */
  set(pipeline: string, crons: readonly string[]): void {
    const now = this.timers.now();
    const due = crons.map((cron) => nextFire(cron, new Date(now), this.options).getTime());
    this.remove(pipeline);
    if (crons.length === 0) return;
    const entries = crons.map((cron, i) => ({
      pipeline,
      cron,
      due: due[i] ?? now,
      timer: undefined,
    }));
    this.entries.set(pipeline, entries);
    for (const entry of entries) this.arm(entry);
  }

  remove(pipeline: string): void {
    for (const entry of this.entries.get(pipeline) ?? []) this.timers.clearTimeout(entry.timer);
    this.entries.delete(pipeline);
  }

  /** When each of the pipeline's schedules fires next. */
  nextFires(pipeline: string): Date[] {
    return (this.entries.get(pipeline) ?? []).map((entry) => new Date(entry.due));
  }

  stop(): void {
    for (const pipeline of [...this.entries.keys()]) this.remove(pipeline);
  }

  private arm(entry: Entry): void {
    const wait = Math.min(Math.max(0, entry.due - this.timers.now()), LONGEST_WAIT_MS);
    entry.timer = this.timers.setTimeout(() => this.wake(entry), wait);
  }

  private wake(entry: Entry): void {
    if (!this.entries.get(entry.pipeline)?.includes(entry)) return;
    const now = this.timers.now();
    if (now < entry.due) {
      this.arm(entry);
      return;
    }
    const at = entry.due;
    try {
      entry.due = nextFire(entry.cron, new Date(Math.max(now, at)), this.options).getTime();
    } catch (error) {
      this.options.onError(entry.pipeline, error);
      return;
    }
    this.arm(entry);
    if (this.lastFired.get(entry.pipeline) === at) return;
    this.lastFired.set(entry.pipeline, at);
    void this.fire({ pipeline: entry.pipeline, cron: entry.cron, at: new Date(at) });
  }

  private async fire(fire: ScheduleFire): Promise<void> {
    try {
      await this.options.onFire(fire);
    } catch (error) {
      this.options.onError(fire.pipeline, error);
    }
  }
}
