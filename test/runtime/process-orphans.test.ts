import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ProcessDriver } from "../../src/runtime/process/index.js";
import { ReplicaRecords } from "../../src/runtime/process/records.js";
import { eventually, processAlive } from "../helpers/wait.js";

let stateDir: string | undefined;
afterEach(() => {
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe("the process runtime after a controller died mid-start", () => {
  it("stops a replica whose start was recorded but whose pid was not", async () => {
    stateDir = mkdtempSync(join(tmpdir(), "baton-orphan-"));
    const records = new ReplicaRecords(join(stateDir, "runtime", "process"));
    records.write({
      id: "web-abc-orphan",
      app: "web",
      revision: "abc",
      port: 1,
      pid: 0,
      startTicks: 0,
      startedAt: Date.now(),
      logFile: join(stateDir, "x.log"),
      maxLogBytes: 1024,
      maxLogFiles: 1,
    });
    const orphan = spawn("sleep", ["300"], {
      detached: true,
      stdio: "ignore",
      env: { ...process.env, BATON_REPLICA: "web-abc-orphan" },
    });
    orphan.unref();
    await eventually(
      "the orphan runs",
      () => processAlive(orphan.pid!),
      (alive) => alive,
    );

    const runtime = new ProcessDriver({ stateDir });
    expect(await runtime.recover()).toEqual([]);
    await runtime.close();
    await eventually(
      "the orphan is gone",
      () => processAlive(orphan.pid!),
      (alive) => !alive,
    );
    expect(records.all()).toEqual([]);
  });
});

describe("the process runtime after a controller restart", () => {
  it("never adopts a reused pid: a record whose pid now belongs to another process", async () => {
    stateDir = mkdtempSync(join(tmpdir(), "baton-reused-"));
    // Someone else's process, now holding the pid a dead replica once had.
    const stranger = spawn("sleep", ["300"], { detached: true, stdio: "ignore" });
    stranger.unref();
    const pid = stranger.pid!;
    try {
      const records = new ReplicaRecords(join(stateDir, "runtime", "process"));
      records.write({
        id: "web-abc-gone",
        app: "web",
        revision: "abc",
        port: 1,
        pid,
        // The replica started at another time than the process that has the pid now.
        startTicks: 1,
        startedAt: Date.now() - 60_000,
        logFile: join(stateDir, "x.log"),
        maxLogBytes: 1024,
        maxLogFiles: 1,
      });
      const runtime = new ProcessDriver({ stateDir });
      expect(await runtime.recover()).toEqual([]);
      await runtime.close();
      // Not adopted, and not killed either: it is not ours.
      expect(processAlive(pid)).toBe(true);
      expect(records.all()).toEqual([]);
    } finally {
      process.kill(pid, "SIGKILL");
    }
  });
});
