/**
 * A step's log that stops growing at a size (`retention.maxLogSize`): the first half is
 * written as it comes; past it, a line says the log is cut, and only the latest output is
 * held (the other half of the size, at most MAX_HELD_BYTES, in memory) and written when the
 * step ends — the end of a log is where a failure shows, its start where the setup went
 * wrong. The middle is dropped, and a second line says how much.
 */
import { fstatSync, readSync } from "node:fs";
import { writeAll } from "./attempt.js";

const NEWLINE = 0x0a;
/** The end of a log is held in the controller's memory until the step ends: bounded. */
const MAX_HELD_BYTES = 16 * 1024 * 1024;

export class CappedLog {
  private readonly headLimit: number;
  private readonly tailLimit: number;
  /** Bytes in the file (what was there before this log too). */
  private written: number;
  private cut = false;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private dropped = 0;
  private lastByte: number;
  private closed = false;

  /** `fd`: the log, open for appending; `maxBytes` ≥ 1. */
  constructor(
    private readonly fd: number,
    private readonly maxBytes: number,
  ) {
    this.tailLimit = Math.min(Math.ceil(maxBytes / 2), MAX_HELD_BYTES);
    this.headLimit = maxBytes - this.tailLimit;
    this.written = fstatSync(fd).size;
    this.lastByte = lastByteOf(fd, this.written);
  }

  /** Output of the step (raw bytes, any chunking). */
  write(chunk: Buffer): void {
    if (chunk.length === 0 || this.closed) return;
    this.lastByte = chunk[chunk.length - 1] ?? NEWLINE;
    if (this.cut) {
      this.hold(chunk);
      return;
    }
    const room = this.headLimit - this.written;
    if (chunk.length <= room) {
      writeAll(this.fd, chunk);
      this.written += chunk.length;
      return;
    }
    // The head ends on a whole line where the room holds one.
    const end = room > 0 ? chunk.lastIndexOf(NEWLINE, room - 1) + 1 : 0;
    const head = chunk.subarray(0, end > 0 ? end : Math.max(room, 0));
    writeAll(this.fd, head);
    this.written += head.length;
    this.cut = true;
    const start = head.length > 0 && head[head.length - 1] !== NEWLINE ? "\n" : "";
    writeAll(
      this.fd,
      Buffer.from(
        `${start}--- baton: … log truncated at ${formatSize(this.maxBytes)} (retention): ` +
          `the output from here is held back; its last ${formatSize(this.tailLimit)} is written when the step ends\n`,
      ),
    );
    this.hold(chunk.subarray(head.length));
  }

  /** A line of Baton's own (`--- baton: …`), on a line of its own. */
  line(text: string): void {
    const start = this.lastByte === NEWLINE ? "" : "\n";
    this.write(Buffer.from(`${start}--- baton: ${text}\n`));
  }

  /** Writes what was held back; the descriptor stays open (its owner closes it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.cut) return;
    let kept = Buffer.concat(this.tail);
    this.tail = [];
    if (this.dropped > 0) {
      // Start at a whole line: the partial one the cut went through goes with the middle.
      const firstLine = kept.indexOf(NEWLINE);
      if (firstLine >= 0 && firstLine < kept.length - 1) {
        this.dropped += firstLine + 1;
        kept = kept.subarray(firstLine + 1);
      }
      writeAll(
        this.fd,
        Buffer.from(
          `--- baton: … ${formatSize(this.dropped)} of output cut here (retention.maxLogSize); the last ${formatSize(kept.length)} follow\n`,
        ),
      );
    }
    writeAll(this.fd, kept);
  }

  private hold(chunk: Buffer): void {
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    while (this.tailBytes > this.tailLimit) {
      const first = this.tail[0];
      if (first === undefined) break;
      const excess = this.tailBytes - this.tailLimit;
      if (first.length <= excess) {
        this.tail.shift();
        this.tailBytes -= first.length;
        this.dropped += first.length;
      } else {
        this.tail[0] = first.subarray(excess);
        this.tailBytes -= excess;
        this.dropped += excess;
      }
    }
  }
}

/** 10485760 → "10Mi", 1536 → "1.5Ki", 200 → "200 bytes": as sizes are written. */
export function formatSize(bytes: number): string {
  const units: [string, number][] = [
    ["Gi", 1024 ** 3],
    ["Mi", 1024 ** 2],
    ["Ki", 1024],
  ];
  for (const [unit, size] of units) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))}${unit}`;
  }
  return `${bytes} bytes`;
}

function lastByteOf(fd: number, size: number): number {
  if (size === 0) return NEWLINE;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return last[0] ?? NEWLINE;
}
