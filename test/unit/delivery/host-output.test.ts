/**
 * A host step's output reaches its capped log through the controller, with real processes:
 * a step whose runaway output passes the cap keeps its start and its end, and one that leaves
 * a process outside its group holding the output still ends.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunStep } from "../../../src/definition/pipeline-model.js";
import { runStep } from "../../../src/delivery/index.js";
import { eventually, processAlive } from "../../helpers/wait.js";

const temps: string[] = [];
const escaped: number[] = [];
afterEach(() => {
  for (const pid of escaped.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function step(run: string): RunStep {
  return {
    kind: "run",
    name: "test",
    run,
    needs: [],
    timeoutMs: 30_000,
    retries: 0,
    env: {},
    secrets: {},
    junit: [],
    caches: [],
    artifacts: [],
  };
}

function context(maxLogBytes?: number) {
  const dir = mkdtempSync(join(tmpdir(), "baton-host-output-"));
  temps.push(dir);
  mkdirSync(join(dir, "checkout"));
  return {
    pipeline: "api",
    checkout: join(dir, "checkout"),
    logFile: join(dir, "logs", "test.log"),
    env: {},
    signal: new AbortController().signal,
    cacheRoot: join(dir, "caches"),
    artifactsDir: join(dir, "artifacts"),
    killGraceMs: 500,
    ...(maxLogBytes === undefined ? {} : { maxLogBytes }),
  };
}

describe("a host step's output", () => {
  it("is capped: the start, a line saying it was cut, the end with the verdict", async () => {
    const ctx = context(4096);
    const result = await runStep(step("seq 1 100000; echo 'FAILED: totals' >&2; exit 1"), ctx);
    expect(result).toMatchObject({ status: "failed", exitCode: 1 });
    const log = readFileSync(ctx.logFile, "utf8");
    expect(log.length).toBeLessThan(4096 + 512);
    expect(log).toMatch(
      /^--- baton: step test, attempt 1 of 1, on the host: seq 1 100000.*\n1\n2\n3\n/,
    );
    expect(log).toContain("--- baton: … log truncated at 4Ki (retention)");
    expect(log).toMatch(
      /\n100000\nFAILED: totals\n--- baton: step test failed with exit code 1 after /,
    );
  });

  it("ends although a process that left the step's group still holds it", async () => {
    const ctx = context();
    const started = Date.now();
    // The pid is written once setsid has put the process in a session of its own.
    const result = await runStep(
      step(
        "setsid sh -c 'echo $$ > escaped.pid; exec sleep 60' & while [ ! -s escaped.pid ]; do :; done; echo done",
      ),
      ctx,
    );
    const pid = Number(readFileSync(join(ctx.checkout, "escaped.pid"), "utf8").trim());
    escaped.push(pid);
    expect(result.status).toBe("passed");
    expect(processAlive(pid)).toBe(true);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(readFileSync(ctx.logFile, "utf8")).toContain("\ndone\n");
    process.kill(pid, "SIGKILL");
    await eventually(
      "the escaped sleep ends",
      () => processAlive(pid),
      (alive) => !alive,
      5_000,
    );
  });
});
