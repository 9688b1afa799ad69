import { once } from "node:events";
import {
  copyFileSync,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  watch,
} from "node:fs";
import { open } from "node:fs/promises";
import type { LogLine, LogOptions } from "../driver.js";
import { indexPath, moveIndex, offsetSince } from "./log-time-index.js";

/**
 * A replica writes stdout and stderr straight into one append-only file (the kernel
 * interleaves them in order), so no process of Baton sits between an app and its log.
 * Rotation is copy-then-truncate: the replica keeps its descriptor and, thanks to
 * O_APPEND, continues at the new end of the file.
 */
export function openLogForAppend(path: string): number {
  return openSync(path, "a", 0o640);
}

export function rotatedPath(path: string, n: number): string {
  return `${path}.${n}`;
}

/** Rotates when the file is larger than `maxBytes`; keeps `maxFiles` rotated files. */
export function rotateIfLarge(path: string, maxBytes: number, maxFiles: number): boolean {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return false;
  }
  if (size <= maxBytes) return false;
  rmSync(rotatedPath(path, maxFiles), { force: true });
  moveIndex(rotatedPath(path, maxFiles), undefined);
  for (let n = maxFiles - 1; n >= 1; n--) {
    const from = rotatedPath(path, n);
    if (existsSync(from)) renameSync(from, rotatedPath(path, n + 1));
    moveIndex(from, rotatedPath(path, n + 1));
  }
  if (maxFiles >= 1) {
    copyFileSync(path, rotatedPath(path, 1));
    moveIndex(path, rotatedPath(path, 1));
  } else {
    moveIndex(path, undefined);
  }
  truncateSync(path, 0);
  return true;
}

export function removeLogFiles(path: string, maxFiles: number): void {
  rmSync(path, { force: true });
  moveIndex(path, undefined);
  for (let n = 1; n <= maxFiles; n++) {
    rmSync(rotatedPath(path, n), { force: true });
    moveIndex(rotatedPath(path, n), undefined);
  }
}

/** Oldest first: `.N` … `.1`, then the live file. */
function filesOldestFirst(path: string, since: number | undefined): string[] {
  const files: string[] = [];
  for (let n = 64; n >= 1; n--) {
    const file = rotatedPath(path, n);
    if (existsSync(file) && (since === undefined || statSync(file).mtimeMs >= since)) {
      files.push(file);
    }
  }
  if (existsSync(path)) files.push(path);
  return files;
}

/** Bytes `offset` up to `end` (default: the end) of a file, as text. */
async function readFrom(file: string, offset: number, end: number | undefined): Promise<string> {
  const handle = await open(file, "r");
  try {
    const size = end ?? (await handle.stat()).size;
    const buffer = Buffer.alloc(Math.max(0, size - offset));
    await handle.read(buffer, 0, buffer.length, offset);
    return buffer.toString("utf8");
  } finally {
    await handle.close();
  }
}

/**
 * Lines of a replica's log. `since` keeps lines whose time (see `timedLineStream`) is at or
 * after it; `follow` keeps reading the live file, across rotations.
 */
export async function* readLogLines(path: string, options: LogOptions): AsyncGenerator<LogLine> {
  const history = timedLineStream(path, options);
  for await (const line of history.lines) yield { stream: "stdout", ...line };
  if (!options.follow) return;
  for await (const line of followLines(path, history.end, options.signal, history.copy)) {
    yield { stream: "stdout", ...line };
  }
}

export interface TimedLine {
  readonly line: string;
  readonly at: number;
}

/** Which part of a log to read: lines since a time, and/or the last N. */
export interface LogReadWindow {
  readonly since?: number | undefined;
  readonly tail?: number | undefined;
}

/**
 * What a replica's log holds now, oldest first, each line with the time it was written: the
 * first time-index sample at which the file had grown past the line (so at most one sampling
 * period late), or the file's modification time for lines written after the last sample.
 * Read in chunks as the lines are taken, so a log of any size costs a chunk of memory (with
 * `tail`, N lines). `end` is the live file's size now, known before any line is read: the
 * lines stop there and following goes on from there; `copy` tells a follow whether the log
 * was rotated since (a large log takes a while to read).
 */
export function timedLineStream(
  path: string,
  window: LogReadWindow,
): { readonly end: number; readonly copy: string; readonly lines: AsyncGenerator<TimedLine> } {
  // The last copy first: a rotation from here on changes it (see `followLines`).
  const copy = fileIdentity(rotatedPath(path, 1));
  const end = existsSync(path) ? statSync(path).size : 0;
  const files = filesOldestFirst(path, window.since);
  if (window.tail !== undefined && window.since === undefined) {
    return { end, copy, lines: tailFromEnd(files, window.tail, path, end) };
  }
  return { end, copy, lines: timedLinesOf(files, path, end, window) };
}

/** `timedLineStream` gathered whole: for small logs and tests. */
export async function readTimedLines(
  path: string,
  window: LogReadWindow,
): Promise<{ lines: TimedLine[]; end: number }> {
  const { end, lines } = timedLineStream(path, window);
  const gathered: TimedLine[] = [];
  for await (const line of lines) gathered.push(line);
  return { lines: gathered, end };
}

async function* tailFromEnd(
  files: readonly string[],
  tail: number,
  live: string,
  liveEnd: number,
): AsyncGenerator<TimedLine> {
  const texts = await lastLines(files, tail, live, liveEnd);
  // Times of a tail: reading the whole of the files the tail reaches would cost too much for
  // large logs; the index gives them per file, counted from each file's end.
  yield* timeTail(files, texts, live, liveEnd);
}

async function* timedLinesOf(
  files: readonly string[],
  live: string,
  liveEnd: number,
  window: LogReadWindow,
): AsyncGenerator<TimedLine> {
  const { since, tail } = window;
  const last = tail === undefined ? undefined : new LastLines<TimedLine>(tail);
  // All opened before any is read: a rotation while a large log is read renames the files,
  // but what is open stays what was listed.
  const opened = await openAll(files);
  try {
    for (const { file, handle } of opened) {
      const from = since === undefined ? 0 : (offsetSince(file, since) ?? 0);
      const samples = sizeSamples(file);
      const fallback = mtimeOf(file);
      let sample = 0;
      const lines =
        file === live
          ? handleLines(handle, from, liveEnd, rotatedPath(live, 1))
          : handleLines(handle, from, (await handle.stat()).size, undefined);
      for await (const { line, next } of lines) {
        while (sample < samples.length && (samples[sample]?.size ?? 0) < next) sample++;
        const timed = { line, at: samples[sample]?.time ?? fallback };
        if (since !== undefined && timed.at < since) continue;
        if (last === undefined) yield timed;
        else last.push(timed);
      }
    }
  } finally {
    await Promise.allSettled(opened.map(({ handle }) => handle.close()));
  }
  if (last !== undefined) yield* last.items();
}

type OpenFile = Awaited<ReturnType<typeof open>>;

/** Files opened for reading; one gone meanwhile (pruned) is left out. */
async function openAll(
  files: readonly string[],
): Promise<{ readonly file: string; readonly handle: OpenFile }[]> {
  const opened: { file: string; handle: OpenFile }[] = [];
  for (const file of files) {
    const handle = await openIfExists(file);
    if (handle !== undefined) opened.push({ file, handle });
  }
  return opened;
}

async function openIfExists(file: string): Promise<OpenFile | undefined> {
  try {
    return await open(file, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** The last `size` items pushed, oldest first, in a ring: memory for `size` items only. */
export class LastLines<T> {
  private readonly ring: T[] = [];
  private start = 0;

  constructor(private readonly size: number) {}

  push(item: T): void {
    if (this.size === 0) return;
    if (this.ring.length < this.size) {
      this.ring.push(item);
      return;
    }
    this.ring[this.start] = item;
    this.start = (this.start + 1) % this.size;
  }

  items(): T[] {
    return [...this.ring.slice(this.start), ...this.ring.slice(0, this.start)];
  }
}

const READ_CHUNK = 256 * 1024;
const NEWLINE = 0x0a;

/**
 * The lines of `file` from byte `from` up to `end` (default: its size when opened), read a
 * chunk at a time, each with the offset just past its newline (a last line without one counts
 * one byte past the end, as if it had one). A file truncated while read ends early.
 */
export async function* chunkedLines(
  file: string,
  from: number,
  end: number | undefined,
): AsyncGenerator<{ readonly line: string; readonly next: number }> {
  // Rotated away or pruned between listing the files and reading them: nothing to read.
  const handle = await openIfExists(file);
  if (handle === undefined) return;
  try {
    yield* handleLines(handle, from, end ?? (await handle.stat()).size, undefined);
  } finally {
    await handle.close();
  }
}

/**
 * `chunkedLines` of an open file, up to `limit`. A live log rotated while it is read is
 * truncated under the reader once copied: the rest of its lines is read from the copy
 * (`copy`, its `.1`), which holds the same bytes at the same offsets.
 */
async function* handleLines(
  handle: OpenFile,
  from: number,
  limit: number,
  copy: string | undefined,
): AsyncGenerator<{ readonly line: string; readonly next: number }> {
  let source = handle;
  let copied: OpenFile | undefined;
  try {
    const buffer = Buffer.allocUnsafe(READ_CHUNK);
    let position = from;
    let carry = Buffer.alloc(0);
    while (position < limit) {
      const { bytesRead } = await source.read(
        buffer,
        0,
        Math.min(READ_CHUNK, limit - position),
        position,
      );
      if (bytesRead === 0) {
        if (copy === undefined || copied !== undefined) break;
        copied = await openIfExists(copy);
        if (copied === undefined) break;
        source = copied;
        continue;
      }
      const read = buffer.subarray(0, bytesRead);
      const chunk = carry.length === 0 ? read : Buffer.concat([carry, read]);
      const chunkStart = position - carry.length;
      position += bytesRead;
      let start = 0;
      for (let newline = chunk.indexOf(NEWLINE); newline !== -1; ) {
        yield { line: chunk.toString("utf8", start, newline), next: chunkStart + newline + 1 };
        start = newline + 1;
        newline = chunk.indexOf(NEWLINE, start);
      }
      // A copy: the read buffer is filled again by the next read.
      carry = Buffer.from(chunk.subarray(start));
    }
    if (carry.length > 0) yield { line: carry.toString("utf8"), next: position + 1 };
  } finally {
    await copied?.close();
  }
}

function timeTail(
  files: readonly string[],
  texts: readonly string[],
  live: string,
  liveEnd: number,
): TimedLine[] {
  // Walks back from the newest file's end, giving each line the time of its byte range.
  const out: TimedLine[] = [];
  let index = texts.length - 1;
  for (const file of [...files].reverse()) {
    if (index < 0) break;
    let offset = file === live ? liveEnd : statSync(file).size;
    const samples = sizeSamples(file);
    const fallback = mtimeOf(file);
    while (index >= 0 && offset > 0) {
      const line = texts[index] ?? "";
      const sample = samples.find((s) => s.size >= offset);
      out.push({ line, at: sample?.time ?? fallback });
      offset -= Buffer.byteLength(line) + 1;
      index--;
    }
  }
  return out.reverse();
}

/**
 * New complete lines of the live file from byte `from` on, each timed when read (inotify
 * wakes the reader within milliseconds of the write, finer than any index could be). A
 * rotation truncates the file under us: what was written between our last read and the
 * copy is read from `.1` first, so no line falls between the two files.
 */
export async function* followLines(
  path: string,
  from: number,
  signal: AbortSignal | undefined,
  copyAtFrom?: string,
): AsyncGenerator<TimedLine> {
  let offset = from;
  let partial = "";
  const rotated = rotatedPath(path, 1);
  // A rotation may leave the live file as large as before (truncated, then written again):
  // a new `.1` (another inode) is what tells it happened — since `from` was read, when the
  // caller says which `.1` there was then.
  let rotatedSeen = copyAtFrom ?? fileIdentity(rotated);
  while (!signal?.aborted) {
    const size = existsSync(path) ? statSync(path).size : 0;
    const rotatedNow = fileIdentity(rotated);
    const rotatedSize = existsSync(rotated) ? statSync(rotated).size : 0;
    // Only once the truncation is done (the live file is smaller than its copy).
    if (rotatedNow !== rotatedSeen && size < rotatedSize) {
      rotatedSeen = rotatedNow;
      if (rotatedSize > offset) {
        const text = partial + (await readFrom(rotated, offset, rotatedSize));
        partial = "";
        const at = Date.now();
        for (const line of splitLines(text)) yield { line, at };
      }
      offset = 0;
      continue;
    }
    if (size < offset) {
      offset = 0; // emptied under us (age retention): what follows is new
      continue;
    }
    if (size > offset) {
      const text = partial + (await readFrom(path, offset, size));
      offset = size;
      const cut = text.lastIndexOf("\n");
      partial = cut === -1 ? text : text.slice(cut + 1);
      const at = Date.now();
      for (const line of splitLines(cut === -1 ? "" : text.slice(0, cut))) yield { line, at };
      continue;
    }
    await waitForChange(path, signal);
  }
}

function fileIdentity(file: string): string {
  const stat = statSync(file, { throwIfNoEntry: false });
  return stat === undefined ? "" : `${stat.ino}:${stat.mtimeMs}`;
}

interface SizeSample {
  readonly time: number;
  readonly size: number;
}

function sizeSamples(file: string): SizeSample[] {
  let text: string;
  try {
    text = readFileSync(indexPath(file), "utf8");
  } catch {
    return [];
  }
  const samples: SizeSample[] = [];
  for (const row of text.split("\n")) {
    const [time, size] = row.split(" ").map(Number);
    if (time === undefined || size === undefined || Number.isNaN(time) || Number.isNaN(size)) {
      continue;
    }
    samples.push({ time, size });
  }
  return samples;
}

function mtimeOf(file: string): number {
  return statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
}

const TAIL_CHUNK = 64 * 1024;

/**
 * The last `count` lines across files (oldest first), reading backwards from the end only
 * (the live file's from `liveEnd`).
 */
async function lastLines(
  filesOldestFirst: readonly string[],
  count: number,
  live: string,
  liveEnd: number,
): Promise<string[]> {
  if (count === 0) return [];
  let collected: string[] = [];
  for (const file of [...filesOldestFirst].reverse()) {
    const handle = await open(file, "r");
    try {
      let end = file === live ? liveEnd : (await handle.stat()).size;
      // Bytes, not text: a chunk boundary may cut a character in two.
      let carry = Buffer.alloc(0);
      const fromFile: string[] = [];
      while (end > 0 && fromFile.length + collected.length <= count) {
        const start = Math.max(0, end - TAIL_CHUNK);
        const buffer = Buffer.alloc(end - start);
        await handle.read(buffer, 0, buffer.length, start);
        const bytes = carry.length === 0 ? buffer : Buffer.concat([buffer, carry]);
        // The first part may be a line cut by the chunk boundary: keep it for the next chunk.
        const cut = start > 0 ? bytes.indexOf(NEWLINE) : -1;
        carry = start > 0 ? bytes.subarray(0, cut === -1 ? bytes.length : cut) : Buffer.alloc(0);
        const whole =
          start > 0 ? (cut === -1 ? "" : bytes.toString("utf8", cut + 1)) : bytes.toString("utf8");
        fromFile.unshift(...splitLines(whole));
        end = start;
      }
      if (carry.length > 0) fromFile.unshift(carry.toString("utf8"));
      collected = [...fromFile, ...collected];
    } finally {
      await handle.close();
    }
    if (collected.length >= count) break;
  }
  return collected.slice(-count);
}

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

async function waitForChange(path: string, signal: AbortSignal | undefined): Promise<void> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  signal?.addEventListener("abort", stop, { once: true });
  // inotify wakes us at once; the timer covers a file that does not exist yet or was replaced.
  const timer = setTimeout(stop, 500);
  try {
    if (existsSync(path)) {
      const watcher = watch(path, { signal: controller.signal });
      watcher.on("error", () => {});
      await Promise.race([
        once(watcher, "change").catch(() => undefined),
        once(controller.signal, "abort"),
      ]);
      watcher.close();
    } else {
      await once(controller.signal, "abort");
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", stop);
  }
}
