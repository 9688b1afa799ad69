import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LogRecord } from "../../../src/observe/logs/index.js";
import { DaemonLogs, datedLines } from "../../../src/observe/logs/sources/daemon-logs.js";
import {
  followLines,
  readTimedLines,
  rotateIfLarge,
  type TimedLine,
} from "../../../src/runtime/process/log-files.js";
import { pruneOldLogs } from "../../../src/runtime/process/log-retention.js";
import { sampleLogSize } from "../../../src/runtime/process/log-time-index.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "baton-log-times-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("replica line times", () => {
  it("are the first size sample past each line, else the file's modification time", async () => {
    const path = join(dir, "web-1.log");
    writeFileSync(path, "");
    let size = sampleLogSize(path, undefined, 1_000);
    writeFileSync(path, "a\nb\n", { flag: "a" });
    size = sampleLogSize(path, size, 2_000);
    writeFileSync(path, "c\n", { flag: "a" });
    size = sampleLogSize(path, size, 3_000);
    writeFileSync(path, "d\n", { flag: "a" });
    utimesSync(path, 4, 4); // seconds: 4_000 ms
    const read = await readTimedLines(path, {});
    expect(read.lines).toEqual([
      { line: "a", at: 2_000 },
      { line: "b", at: 2_000 },
      { line: "c", at: 3_000 },
      { line: "d", at: 4_000 },
    ]);
    expect(read.end).toBe(8);
    expect((await readTimedLines(path, { tail: 2 })).lines).toEqual(read.lines.slice(2));
    expect((await readTimedLines(path, { since: 2_500 })).lines.map((l) => l.line)).toEqual([
      "c",
      "d",
    ]);
  });

  it("followed, lose nothing across a rotation", async () => {
    const path = join(dir, "web-1.log");
    writeFileSync(path, "1\n2\n");
    const { end } = await readTimedLines(path, {});
    const abort = new AbortController();
    const seen: TimedLine[] = [];
    const following = (async () => {
      for await (const l of followLines(path, end, abort.signal)) {
        seen.push(l);
        if (l.line === "6") abort.abort();
      }
    })();
    // Written and rotated before the follower reads: 3 and 4 are only in web-1.log.1 then.
    writeFileSync(path, "3\n4\n", { flag: "a" });
    rotateIfLarge(path, 1, 2);
    writeFileSync(path, "5\n6\n", { flag: "a" });
    await following;
    expect(seen.map((l) => l.line)).toEqual(["3", "4", "5", "6"]);
    for (const l of seen) expect(l.at).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe("age retention", () => {
  it("removes old files, empties an old live log, and keeps recent ones", () => {
    const now = 100 * 24 * 3600 * 1000;
    const old = (now - 8 * 24 * 3600 * 1000) / 1000;
    for (const name of ["live.log", "gone.log", "gone.log.idx", "live.log.1", "recent.log"]) {
      writeFileSync(join(dir, name), "x\n");
    }
    for (const name of ["live.log", "gone.log", "live.log.1"])
      utimesSync(join(dir, name), old, old);
    utimesSync(join(dir, "recent.log"), now / 1000, now / 1000);
    const pruned = pruneOldLogs(dir, 7 * 24 * 3600 * 1000, now, new Set([join(dir, "live.log")]));
    expect(pruned.map((f) => f.slice(dir.length + 1)).sort()).toEqual([
      "gone.log",
      "live.log",
      "live.log.1",
    ]);
    expect(readdirSync(dir).sort()).toEqual(["live.log", "recent.log"]);
    expect(statSync(join(dir, "live.log")).size).toBe(0);
  });
});

describe("controller log times", () => {
  it("date each time of day back from the last write, untimed lines with the next one", () => {
    const lastWrite = Date.UTC(2026, 10, 26, 0, 0, 30, 500);
    const lines = ["23:59:50 app.started web", "  at stack", "00:00:10 replica.exited", "tail"];
    expect(datedLines(lines, lastWrite)).toEqual([
      Date.UTC(2026, 10, 25, 23, 59, 50),
      Date.UTC(2026, 10, 26, 0, 0, 10),
      Date.UTC(2026, 10, 26, 0, 0, 10),
      lastWrite,
    ]);
  });
});

describe("the controller's log read as a stream", () => {
  it("dates lines as reading it whole does, across midnights, and leaves a partial line", async () => {
    // Three days of events, a stack trace between two of them, the last line still written.
    const lines: string[] = [];
    for (let day = 0; day < 3; day++) {
      for (const time of ["08:00:00", "16:30:15", "23:59:59"]) {
        lines.push(`${time} replica.started day ${day}`);
        if (time === "16:30:15") lines.push("  at stack (one)", "  at stack (two)");
      }
    }
    lines.push("12:00:00 same second", "12:00:00 same second again", "untimed at the end");
    const file = join(dir, "logs", "controller.log");
    mkdirSync(join(dir, "logs"));
    writeFileSync(file, `${lines.join("\n")}\npartial 12:0`);
    const lastWrite = Date.UTC(2026, 10, 26, 12, 0, 5, 250);
    utimesSync(file, lastWrite / 1000, lastWrite / 1000);
    const expected = datedLines(lines, statSync(file).mtimeMs);
    expect(new Date(expected[0] ?? 0).toISOString()).toBe("2026-11-23T08:00:00.000Z");

    const logs = new DaemonLogs(dir, "controller");
    const read = await gathered(logs.history({}));
    expect(read.map((r) => r.line)).toEqual(lines);
    expect(read.map((r) => r.at)).toEqual(expected);
    const since = Date.UTC(2026, 10, 24, 16, 0, 0);
    const after = read.filter((r) => r.at >= since);
    expect(await gathered(new DaemonLogs(dir, "controller").history({ since }))).toEqual(after);
    expect(await gathered(new DaemonLogs(dir, "controller").history({ since, tail: 4 }))).toEqual(
      after.slice(-4),
    );
    expect(await gathered(new DaemonLogs(dir, "controller").history({ tail: 0 }))).toEqual([]);

    // Following goes on from the last complete line: the partial one comes whole.
    const abort = new AbortController();
    const followed: string[] = [];
    const following = logs.follow(abort.signal, (r) => {
      followed.push(r.line);
      abort.abort();
    });
    writeFileSync(file, "0\n", { flag: "a" });
    await following;
    expect(followed).toEqual(["partial 12:00"]);
  });
});

async function gathered(records: AsyncIterable<LogRecord>): Promise<LogRecord[]> {
  const all: LogRecord[] = [];
  for await (const r of records) all.push(r);
  return all;
}
