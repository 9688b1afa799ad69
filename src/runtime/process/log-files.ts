import { once } from "node:events";
import {
  copyFileSync,
  existsSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  watch,
} from "node:fs";
import { open } from "node:fs/promises";
import type { LogLine, LogOptions } from "../runtime.js";
import { moveIndex, offsetSince } from "./log-time-index.js";

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

async function readFrom(file: string, offset: number): Promise<string> {
  const handle = await open(file, "r");
  try {
    if (offset === 0) return await handle.readFile("utf8");
    const size = (await handle.stat()).size;
    const buffer = Buffer.alloc(Math.max(0, size - offset));
    await handle.read(buffer, 0, buffer.length, offset);
    return buffer.toString("utf8");
  } finally {
    await handle.close();
  }
}

/**
 * Lines of a replica's log. `since` starts where the time index says the file stood then
 * (whole files by modification time where there is no index); `follow` keeps reading the
 * live file, across rotations.
 */
export async function* readLogLines(path: string, options: LogOptions): AsyncGenerator<LogLine> {
  const files = filesOldestFirst(path, options.since);
  let lines: string[] = [];
  if (options.since !== undefined) {
    for (const file of files) {
      lines.push(...splitLines(await readFrom(file, offsetSince(file, options.since) ?? 0)));
    }
    if (options.tail !== undefined) lines = lines.slice(-options.tail);
  } else if (options.tail !== undefined) {
    lines = await lastLines(files, options.tail);
  } else {
    for (const file of files) lines.push(...splitLines(await readFrom(file, 0)));
  }
  const now = Date.now();
  for (const line of lines) yield { stream: "stdout", line, at: now };
  if (!options.follow) return;

  let offset = existsSync(path) ? statSync(path).size : 0;
  let partial = "";
  const signal = options.signal;
  while (!signal?.aborted) {
    const size = existsSync(path) ? statSync(path).size : 0;
    if (size < offset) offset = 0; // rotated (truncated) under us
    if (size > offset) {
      const handle = await open(path, "r");
      try {
        const buffer = Buffer.alloc(size - offset);
        await handle.read(buffer, 0, buffer.length, offset);
        offset = size;
        const text = partial + buffer.toString("utf8");
        const cut = text.lastIndexOf("\n");
        partial = cut === -1 ? text : text.slice(cut + 1);
        const complete = cut === -1 ? "" : text.slice(0, cut);
        for (const line of splitLines(complete)) yield { stream: "stdout", line, at: Date.now() };
      } finally {
        await handle.close();
      }
      continue;
    }
    await waitForChange(path, signal);
  }
}

const TAIL_CHUNK = 64 * 1024;

/** The last `count` lines across files (oldest first), reading backwards from the end only. */
async function lastLines(filesOldestFirst: readonly string[], count: number): Promise<string[]> {
  if (count === 0) return [];
  let collected: string[] = [];
  for (const file of [...filesOldestFirst].reverse()) {
    const handle = await open(file, "r");
    try {
      let end = (await handle.stat()).size;
      let carry = "";
      const fromFile: string[] = [];
      while (end > 0 && fromFile.length + collected.length <= count) {
        const start = Math.max(0, end - TAIL_CHUNK);
        const buffer = Buffer.alloc(end - start);
        await handle.read(buffer, 0, buffer.length, start);
        const text = buffer.toString("utf8") + carry;
        const parts = text.split("\n");
        // The first part may be a line cut by the chunk boundary: keep it for the next chunk.
        carry = start > 0 ? (parts.shift() ?? "") : "";
        fromFile.unshift(...splitLines(parts.join("\n")));
        end = start;
      }
      if (carry !== "") fromFile.unshift(carry);
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
