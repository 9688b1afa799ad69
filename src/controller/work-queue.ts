/**
 * Level-based work queue (controller-runtime's model): an event only says WHICH key to look
 * at; the handler reads desired and actual state afresh. A key is never handled twice at
 * once, and a key added again while it is being handled is handled once more afterwards,
 * so no change is missed and bursts collapse into one pass.
 */
export type Handler = (key: string) => Promise<void>;

/** A key whose pass failed is handled again after this, doubled at each failure in a row. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 10_000;

export class WorkQueue {
  private readonly dirty = new Set<string>();
  private readonly running = new Set<string>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  private readonly idleWaiters: (() => void)[] = [];
  /** Failed passes in a row, by key: how long the next retry waits. */
  private readonly failures = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly handler: Handler,
    private readonly onError: (key: string, error: unknown) => void,
  ) {}

  add(key: string): void {
    if (this.closed) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.running.add(key);
    queueMicrotask(() => void this.run(key));
  }

  /** Adds the key after `ms`; an earlier pending request for the key wins. */
  addAfter(key: string, ms: number): void {
    if (this.closed) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const due = Date.now() + ms;
    const existing = this.timers.get(key);
    if (existing !== undefined) {
      if (existing.due <= due) return;
      clearTimeout(existing.timer);
    }
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    this.timers.set(key, { timer, due });
  }

  /** Resolves when no key is running or waiting to run again (timers excluded). */
  idle(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private async run(key: string): Promise<void> {
    try {
      await this.handler(key);
      this.failures.delete(key);
    } catch (error) {
      // A failed pass is tried again, sooner than the next resync, later each time in a
      // row (controller-runtime's rate-limited requeue): the world may need a moment.
      const failed = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failed);
      this.onError(key, error);
      this.addAfter(key, Math.min(RETRY_FIRST_MS * 2 ** (failed - 1), RETRY_MAX_MS));
    }
    if (this.dirty.delete(key) && !this.closed) {
      queueMicrotask(() => void this.run(key));
      return;
    }
    this.running.delete(key);
    if (this.running.size === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }
}
