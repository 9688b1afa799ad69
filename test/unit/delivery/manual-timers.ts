import type { Timers } from "../../../src/delivery/index.js";

/** A clock the test moves: timers fire, in order, only when `advance` passes their time. */
export class ManualTimers implements Timers {
  private pending: { id: number; at: number; callback: () => void }[] = [];
  private nextId = 1;
  readonly waits: number[] = [];

  constructor(private current: number) {}

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.waits.push(ms);
    this.pending.push({ id, at: this.current + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((timer) => timer.id !== handle);
  }

  /** Moves the clock to `to`, firing each timer due on the way at its own time. */
  advanceTo(to: number): void {
    for (;;) {
      const due = this.pending
        .filter((timer) => timer.at <= to)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.pending = this.pending.filter((timer) => timer !== due);
      this.current = Math.max(this.current, due.at);
      due.callback();
    }
    this.current = to;
  }

  /** The clock jumps (a suspended machine waking up): every timer due fires at the new time. */
  jumpTo(to: number): void {
    this.current = to;
    this.advanceTo(to);
  }

  get count(): number {
    return this.pending.length;
  }
}
