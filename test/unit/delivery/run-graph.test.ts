import { describe, expect, it } from "vitest";
import type { PipelineStep } from "../../../src/definition/index.js";
import { executeRunGraph, type StepOutcome } from "../../../src/delivery/run-graph.js";

function run(name: string, needs: string[] = []): PipelineStep {
  return {
    kind: "run",
    name,
    run: "true",
    env: {},
    secrets: {},
    junit: [],
    caches: [],
    artifacts: [],
    needs,
    timeoutMs: 1000,
    retries: 0,
  };
}

/** Steps that end when the test says, recording the order things happen in. */
function controlled() {
  const log: string[] = [];
  const pending = new Map<string, (o: StepOutcome) => void>();
  const execute = (step: PipelineStep, signal: AbortSignal) =>
    new Promise<StepOutcome>((resolve) => {
      log.push(`start ${step.name}`);
      pending.set(step.name, resolve);
      signal.addEventListener("abort", () => resolve({ state: "cancelled" }));
    });
  const end = async (name: string, state: StepOutcome["state"] = "passed", detail?: string) => {
    const resolve = pending.get(name);
    if (resolve === undefined) throw new Error(`${name} is not running (log: ${log.join(", ")})`);
    pending.delete(name);
    resolve(detail === undefined ? { state } : { state, detail });
    // Let the graph react before the test looks.
    await new Promise((r) => setImmediate(r));
  };
  const running = () => [...pending.keys()].sort();
  return { log, execute, end, running };
}

describe("the order of a run's steps", () => {
  it("runs independent steps together and a step once all it needs passed", async () => {
    const c = controlled();
    const states: string[] = [];
    const outcome = executeRunGraph({
      steps: [run("test"), run("lint"), run("image", ["test", "lint"]), run("dev", ["image"])],
      execute: c.execute,
      onStep: (name, state) => states.push(`${name} ${state}`),
    });
    expect(c.running()).toEqual(["lint", "test"]);
    await c.end("test");
    expect(c.running()).toEqual(["lint"]);
    await c.end("lint");
    expect(c.running()).toEqual(["image"]);
    await c.end("image");
    await c.end("dev");
    expect(await outcome).toEqual({ state: "passed" });
    expect(states).toEqual([
      "test running",
      "lint running",
      "test passed",
      "lint passed",
      "image running",
      "image passed",
      "dev running",
      "dev passed",
    ]);
  });

  it("skips what needs a failed step, lets independent steps finish, and says which step failed", async () => {
    const c = controlled();
    const states: string[] = [];
    const outcome = executeRunGraph({
      steps: [run("test"), run("docs"), run("image", ["test"]), run("dev", ["image"])],
      execute: c.execute,
      onStep: (name, state, detail) =>
        states.push(`${name} ${state}${detail ? ` (${detail})` : ""}`),
    });
    await c.end("test", "failed", "1 of 3 tests failed: math adds");
    expect(c.running()).toEqual(["docs"]);
    await c.end("docs");
    expect(await outcome).toEqual({
      state: "failed",
      reason: "test failed: 1 of 3 tests failed: math adds",
    });
    expect(states).toContain("image skipped (test did not pass)");
    expect(states).toContain("dev skipped (image did not pass)");
    expect(c.log).toEqual(["start test", "start docs"]);
  });

  it("keeps to `parallel` steps at once", async () => {
    const c = controlled();
    const outcome = executeRunGraph({
      steps: [run("a"), run("b"), run("c")],
      execute: c.execute,
      parallel: 2,
    });
    expect(c.running()).toEqual(["a", "b"]);
    await c.end("b");
    expect(c.running()).toEqual(["a", "c"]);
    await c.end("a");
    await c.end("c");
    expect((await outcome).state).toBe("passed");
  });

  it("on cancel stops what runs and starts nothing more", async () => {
    const c = controlled();
    const cancel = new AbortController();
    const states: string[] = [];
    const outcome = executeRunGraph({
      steps: [run("test"), run("image", ["test"])],
      execute: c.execute,
      signal: cancel.signal,
      onStep: (name, state) => states.push(`${name} ${state}`),
    });
    cancel.abort();
    expect(await outcome).toEqual({ state: "cancelled", reason: "the run was cancelled" });
    expect(states).toEqual(["test running", "test cancelled", "image skipped"]);
  });

  it("a step whose executor throws has failed, with the error as its reason", async () => {
    const outcome = await executeRunGraph({
      steps: [run("boom")],
      execute: () => Promise.reject(new Error("no such image: node-build")),
    });
    expect(outcome).toEqual({ state: "failed", reason: "boom failed: no such image: node-build" });
  });
});
