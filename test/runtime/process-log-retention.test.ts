import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ProcessDriver } from "../../src/runtime/process/index.js";

let stateDir: string | undefined;
let runtime: ProcessDriver | undefined;
afterEach(async () => {
  for (const handle of (await runtime?.recover()) ?? []) await runtime?.stop(handle, 1_000);
  await runtime?.close();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe("the process runtime's log retention", () => {
  it("removes an app's logs older than its maxAge and keeps the running replica's", async () => {
    stateDir = mkdtempSync(join(tmpdir(), "baton-retention-"));
    runtime = new ProcessDriver({ stateDir, pruneEveryMs: 3_600_000 });
    const handle = await runtime.start({
      id: "web-new",
      app: "web",
      revision: "abc",
      port: 0,
      command: { shell: "echo started; exec sleep 300" },
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      cwd: stateDir,
      logs: { maxBytes: 1024 * 1024, maxFiles: 2, maxAgeMs: 60_000 },
    });
    const dir = join(stateDir, "logs", "web");
    const exited = join(dir, "web-old.log");
    const recent = join(dir, "web-recent.log");
    writeFileSync(exited, "old output\n");
    writeFileSync(recent, "recent output\n");
    const twoMinutesAgo = (Date.now() - 120_000) / 1000;
    utimesSync(exited, twoMinutesAgo, twoMinutesAgo);

    const pruned = runtime.pruneByAge(Date.now());
    expect(pruned).toEqual([exited]);
    expect(existsSync(exited)).toBe(false);
    expect(existsSync(recent)).toBe(true);
    expect(existsSync(runtime.logFileOf("web", handle.id))).toBe(true);
  });
});
