import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  chunkedLines,
  followLines,
  LastLines,
  readTimedLines,
  rotateIfLarge,
  type TimedLine,
  timedLineStream,
} from "../../../src/runtime/process/log-files.js";
import { indexPath, sampleLogSize } from "../../../src/runtime/process/log-time-index.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "baton-log-stream-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function gathered(lines: AsyncIterable<TimedLine>): Promise<string[]> {
  const all: TimedLine[] = [];
  for await (const l of lines) all.push(l);
  return brief(all);
}

function mtimeOf(file: string): number {
  return statSync(file).mtimeMs;
}

/** Lines as short text (a failure shows them whole otherwise: some are 400 kB). */
function brief(lines: readonly TimedLine[]): string[] {
  return lines.map((l) => `${l.line.slice(0, 12)}…${l.line.length} @${l.at}`);
}

/** Lines of one file read whole and timed by its index: what reading in chunks must give. */
function wholeFileLines(file: string, mtime: number): string[] {
  const samples = readFileSync(indexPath(file), "utf8")
    .split("\n")
    .filter((row) => row !== "")
    .map((row) => row.split(" ").map(Number) as [number, number]);
  const bytes = readFileSync(file);
  const out: TimedLine[] = [];
  let start = 0;
  while (start < bytes.length) {
    let newline = bytes.indexOf(0x0a, start);
    if (newline === -1) newline = bytes.length;
    const past = newline + 1;
    out.push({
      line: bytes.toString("utf8", start, newline),
      at: samples.find(([, size]) => size >= past)?.[0] ?? mtime,
    });
    start = past;
  }
  return brief(out);
}

/**
 * A replica's log, rotated once: lines of every length — a few bytes, multi-byte characters,
 * longer than a read chunk — sampled into the index between writes, the live file ending in
 * a line still being written.
 */
function writeLog(path: string): { mtime: number; times: number[] } {
  const times: number[] = [];
  let size: number | undefined;
  const long = "é".repeat(200_000); // 400 kB: spans chunk boundaries
  for (let k = 0; k < 12; k++) {
    const text = Array.from({ length: 50 }, (_, n) =>
      n % 17 === 5 ? `${k}/${n} ${long}` : `${k}/${n} ${"✓".repeat(n)}`,
    ).join("\n");
    appendFileSync(path, `${text}\n`);
    const at = 1_000_000 + k * 1_000;
    times.push(at);
    size = sampleLogSize(path, size, at);
    if (k === 5) {
      rotateIfLarge(path, 0, 3);
      size = undefined;
    }
  }
  appendFileSync(path, "partial ✓");
  const mtime = 2_000_000;
  utimesSync(path, mtime / 1000, mtime / 1000);
  utimesSync(`${path}.1`, 1_500, 1_500);
  return { mtime, times };
}

describe("a replica's log read in chunks", () => {
  it("gives every line with the time reading it whole gives, across rotated files", async () => {
    const path = join(dir, "web-1.log");
    const { mtime } = writeLog(path);
    const whole = [...wholeFileLines(`${path}.1`, 1_500_000), ...wholeFileLines(path, mtime)];
    expect(whole.at(-1)).toBe(`partial ✓…9 @${mtime}`);

    const read = timedLineStream(path, {});
    expect(read.end).toBe(readFileSync(path).length);
    expect(await gathered(read.lines)).toEqual(whole);

    const since = 1_007_500; // between two samples: the index says where to start reading
    const atOrAfter = whole.filter((l) => Number(l.split("@")[1]) >= since);
    const sinceLines = await gathered(timedLineStream(path, { since }).lines);
    expect(sinceLines).toEqual(atOrAfter);
    expect(sinceLines[0]).toBe("8/0 …4 @1008000");
    const sinceTail = await gathered(timedLineStream(path, { since, tail: 60 }).lines);
    expect(sinceTail).toEqual(atOrAfter.slice(-60));
    expect((await readTimedLines(path, { since: 3_000_000 })).lines).toEqual([]);
  });

  it("gives the last N lines read from the end, timed as a whole read times them", async () => {
    const path = join(dir, "web-1.log");
    const { mtime } = writeLog(path);
    appendFileSync(path, "\n"); // the partial line completed
    utimesSync(path, mtime / 1000, mtime / 1000);
    const whole = [...wholeFileLines(`${path}.1`, 1_500_000), ...wholeFileLines(path, mtime)];
    for (const tail of [0, 1, 49, 380, 700]) {
      const last = tail === 0 ? [] : whole.slice(-tail);
      expect(await gathered(timedLineStream(path, { tail }).lines)).toEqual(last);
    }
  });

  it("stops where the log ended when it was opened: later lines are the follow's", async () => {
    const path = join(dir, "web-1.log");
    appendFileSync(path, "one\ntwo\n");
    const read = timedLineStream(path, {});
    appendFileSync(path, "three\n");
    expect(await gathered(read.lines)).toEqual([
      `one…3 @${mtimeOf(path)}`,
      `two…3 @${mtimeOf(path)}`,
    ]);
    expect(read.end).toBe(8);
    const missing = timedLineStream(join(dir, "none.log"), {});
    expect(read.end).toBe(8);
    expect(missing.end).toBe(0);
    expect(await gathered(missing.lines)).toEqual([]);
  });

  it("read while the log rotates: history up to its end, the follow from there, nothing twice", async () => {
    const path = join(dir, "web-1.log");
    const before = Array.from({ length: 20_000 }, (_, n) => `before ${n} ${"-".repeat(60)}`);
    appendFileSync(path, `${before.join("\n")}\n`);
    const read = timedLineStream(path, {});
    appendFileSync(path, "between\n"); // after the history's end: the follow's
    const lines = read.lines[Symbol.asyncIterator]();
    const first = await lines.next();
    // Copied and truncated under the reader, a chunk into a 1.4 MB log; then written on.
    rotateIfLarge(path, 0, 3);
    appendFileSync(path, "after\n");
    const history = [first.value?.line];
    for (let l = await lines.next(); l.done !== true; l = await lines.next()) {
      history.push(l.value.line);
    }
    expect(history).toEqual(before);

    const abort = new AbortController();
    const followed: string[] = [];
    for await (const l of followLines(path, read.end, abort.signal, read.copy)) {
      followed.push(l.line);
      if (l.line === "after") abort.abort();
    }
    expect(followed).toEqual(["between", "after"]);
  });

  it("give each line with the offset past it, from any offset", async () => {
    const path = join(dir, "lines.log");
    appendFileSync(path, "a\n\nbé\nlast");
    const lines: { line: string; next: number }[] = [];
    for await (const l of chunkedLines(path, 0, undefined)) lines.push(l);
    expect(lines).toEqual([
      { line: "a", next: 2 },
      { line: "", next: 3 },
      { line: "bé", next: 7 },
      { line: "last", next: 12 },
    ]);
    const from: string[] = [];
    for await (const l of chunkedLines(path, 3, 7)) from.push(l.line);
    expect(from).toEqual(["bé"]);
  });
});

describe("the last N of a stream", () => {
  it("keeps only the newest N, oldest first", () => {
    const last = new LastLines<number>(3);
    for (let n = 0; n < 10; n++) last.push(n);
    expect(last.items()).toEqual([7, 8, 9]);
    const few = new LastLines<number>(3);
    few.push(1);
    expect(few.items()).toEqual([1]);
    const none = new LastLines<number>(0);
    none.push(1);
    expect(none.items()).toEqual([]);
  });
});
