/**
 * Level-based work queue (controller-runtime's model): an event only says WHICH key to look
 * at; the handler reads desired and actual state afresh. A key is never handled twice at
 * once, and a key added again while it is being handled is handled once more afterwards,
 * so no change is missed and bursts collapse into one pass.
 */
export type Handler = (key: string) => Promise<void>;

export class WorkQueue {
  private readonly dirty = new Set<string>();
  private readonly running = new Set<string>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  private readonly idleWaiters: (() => void)[] = [];
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
    } catch (error) {
      this.onError(key, error);
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
