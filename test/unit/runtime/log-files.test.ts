import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readLogLines, rotateIfLarge } from "../../../src/runtime/process/log-files.js";
import { sampleLogSize } from "../../../src/runtime/process/log-time-index.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "baton-logs-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function read(path: string, tail?: number, since?: number): Promise<string[]> {
  const options = {
    ...(tail === undefined ? {} : { tail }),
    ...(since === undefined ? {} : { since }),
  };
  const lines: string[] = [];
  for await (const line of readLogLines(path, options)) lines.push(line.line);
  return lines;
}

describe("replica log files", () => {
  it("give their last lines without reading a large file whole", async () => {
    const path = join(dir, "big.log");
    writeFileSync(path, Array.from({ length: 200_000 }, (_, i) => `line ${i}`).join("\n"));
    expect(await read(path, 3)).toEqual(["line 199997", "line 199998", "line 199999"]);
  });

  it("start at what was written since a time, by the size samples of their index", async () => {
    const path = join(dir, "app.log");
    writeFileSync(path, "");
    sampleLogSize(path, undefined, 1_000);
    writeFileSync(path, "early\n", { flag: "a" });
    let size = sampleLogSize(path, 0, 2_000);
    writeFileSync(path, "middle\n", { flag: "a" });
    size = sampleLogSize(path, size, 3_000);
    writeFileSync(path, "late\n", { flag: "a" });
    expect(await read(path, undefined, 2_500)).toEqual(["middle", "late"]);
    expect(await read(path, undefined, 3_500)).toEqual(["late"]);
    expect(await read(path, 1, 500)).toEqual(["late"]);
    expect(size).toBe(13);
  });

  it("rotate by copy and truncate, and read across rotated files oldest first", async () => {
    const path = join(dir, "app.log");
    writeFileSync(path, "one\ntwo\n");
    expect(rotateIfLarge(path, 4, 2)).toBe(true);
    writeFileSync(path, "three\n", { flag: "a" });
    expect(rotateIfLarge(path, 100, 2)).toBe(false);
    expect(await read(path)).toEqual(["one", "two", "three"]);
    expect(await read(path, 2)).toEqual(["two", "three"]);
  });
});
