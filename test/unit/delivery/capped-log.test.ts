/** A step's log capped in size, written to a real file. */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CappedLog, formatSize } from "../../../src/delivery/index.js";

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function logFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "baton-capped-"));
  temps.push(dir);
  return join(dir, "test.log");
}

/** Writes `chunks` through a log capped at `max` and returns what the file holds. */
function written(max: number, write: (log: CappedLog) => void): string {
  const file = logFile();
  const fd = openSync(file, "a+");
  try {
    const log = new CappedLog(fd, max);
    write(log);
    log.close();
  } finally {
    closeSync(fd);
  }
  return readFileSync(file, "utf8");
}

const lines = (from: number, to: number): string =>
  Array.from(
    { length: to - from + 1 },
    (_, i) => `line ${String(from + i).padStart(4, "0")}\n`,
  ).join("");

describe("a capped step log", () => {
  it("writes everything under the size as it comes, Baton's lines on lines of their own", () => {
    const text = written(1024, (log) => {
      log.write(Buffer.from("no newline"));
      log.line("step test passed after 0.1 s");
    });
    expect(text).toBe("no newline\n--- baton: step test passed after 0.1 s\n");
  });

  it("keeps the first half and the last half, whole lines, and says what was cut", () => {
    // 1000 lines of 10 bytes, capped at 200 bytes: 10 lines from the start, ≤ 10 from the end.
    const text = written(200, (log) => {
      for (let i = 1; i <= 1000; i += 7) log.write(Buffer.from(lines(i, Math.min(i + 6, 1000))));
      log.line("step test failed with exit code 1 after 3.0 s");
    });
    const out = text.split("\n");
    expect(out.slice(0, 10)).toEqual(lines(1, 10).trimEnd().split("\n"));
    expect(out[10]).toBe(
      "--- baton: … log truncated at 200 bytes (retention): the output from here is held back; its last 100 bytes is written when the step ends",
    );
    expect(out[11]).toMatch(
      /^--- baton: … 9\.\d+Ki of output cut here \(retention\.maxLogSize\); the last \d+ bytes follow$/,
    );
    // The end in whole lines (the 100 bytes kept hold 4 of them), the failure last.
    expect(out.slice(12, -1).join("\n")).toBe(
      `${lines(997, 1000).trimEnd()}\n--- baton: step test failed with exit code 1 after 3.0 s`,
    );
  });

  it("writes the held output as it was when nothing had to be dropped", () => {
    const text = written(100, (log) => {
      log.write(Buffer.from(lines(1, 6)));
    });
    expect(text).toBe(
      `${lines(1, 5)}--- baton: … log truncated at 100 bytes (retention): the output from here is held back; its last 50 bytes is written when the step ends\n${lines(6, 6)}`,
    );
  });

  it("stays near its size however much is written", () => {
    const file = logFile();
    const fd = openSync(file, "a+");
    const log = new CappedLog(fd, 64 * 1024);
    const chunk = Buffer.alloc(10_000, "x\n");
    for (let i = 0; i < 1_000; i++) log.write(chunk);
    log.close();
    closeSync(fd);
    expect(statSync(file).size).toBeLessThan(64 * 1024 + 512);
  });

  it("names sizes as they are written", () => {
    expect(formatSize(10 * 1024 * 1024)).toBe("10Mi");
    expect(formatSize(1536)).toBe("1.5Ki");
    expect(formatSize(200)).toBe("200 bytes");
  });
});
