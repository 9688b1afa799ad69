import { once } from "node:events";
import type { Writable } from "node:stream";

const BATCH_CHARS = 64 * 1024;

/**
 * Where a history is printed: its lines written a batch at a time (a write per line costs a
 * system call per line, most of the time of printing a large log), waiting while the reader
 * is behind so that nothing piles up in memory. Once `live`, each line is written as it comes
 * (what a follow prints must show at once). A reader that went away (a closed connection)
 * takes nothing more, and is never waited for.
 */
export class BatchedOutput {
  private pending = "";
  private live = false;
  private flushSoon: NodeJS.Immediate | undefined;

  constructor(private readonly stream: Writable) {}

  write(text: string): void {
    if (this.closed) return;
    if (this.live) this.stream.write(text);
    else this.pending += text;
  }

  /**
   * `write`, for a reader that cannot tell where a history ends and a follow begins (lines
   * from a stream): what is pending is written as soon as no more lines are at hand, so a
   * followed line shows at once while a history still goes out in batches.
   */
  writeEventually(text: string): void {
    this.write(text);
    this.flushSoon ??= setImmediate(() => {
      this.flushSoon = undefined;
      if (this.pending !== "" && !this.closed) this.stream.write(this.pending);
      this.pending = "";
    });
  }

  /** Whether a batch is ready: then `flush` before printing more. */
  get full(): boolean {
    return this.pending.length >= BATCH_CHARS;
  }

  /** Whether the reader has gone: nothing written now is read. */
  get closed(): boolean {
    return this.stream.destroyed || this.stream.writableEnded;
  }

  /** Writes what is pending, and waits until the reader has taken it in (or gone). */
  async flush(): Promise<void> {
    if (this.pending !== "" && !this.closed) this.stream.write(this.pending);
    this.pending = "";
    if (!this.stream.writableNeedDrain || this.closed) return;
    const done = new AbortController();
    try {
      await Promise.race([
        once(this.stream, "drain", { signal: done.signal }),
        once(this.stream, "close", { signal: done.signal }),
      ]);
    } finally {
      done.abort();
    }
  }

  /** The history is printed: from now on each line is written at once. */
  async goLive(): Promise<void> {
    await this.flush();
    this.live = true;
  }
}
