import { afterEach, describe, expect, it } from "vitest";
import { SqliteStore } from "../../../src/store/index.js";
import { tempStateDirs } from "./helpers.js";

const dirs = tempStateDirs();
afterEach(() => dirs.cleanup());

function open(): { store: SqliteStore; tick: (ms: number) => void } {
  let now = 1_000;
  const store = SqliteStore.open(dirs.make(), { create: true, now: () => now });
  return { store, tick: (ms) => (now += ms) };
}

const STEPS = [
  { name: "test", kind: "run" as const },
  { name: "image", kind: "build" as const },
  { name: "dev", kind: "deploy" as const },
];

describe("pipeline runs in the store", () => {
  it("creates a queued run with pending steps, moves it forward, never back from an end", () => {
    const { store, tick } = open();
    const run = store.runs.create({
      pipeline: "api",
      branch: "main",
      commit: "a".repeat(40),
      subject: "fix the thing",
      trigger: "push",
      createdBy: "hook",
      steps: STEPS,
    });
    expect(run).toMatchObject({ id: 1, state: "queued", startedAt: null, release: null });
    expect(store.runs.steps(run.id).map((s) => `${s.seq} ${s.name} ${s.kind} ${s.state}`)).toEqual([
      "0 test run pending",
      "1 image build pending",
      "2 dev deploy pending",
    ]);
    tick(5);
    expect(store.runs.setState(run.id, "running")).toBe(true);
    store.runs.updateStep(run.id, "test", {
      state: "failed",
      attempts: 2,
      exitCode: 1,
      tests: { total: 3, failed: 1, skipped: 0, failures: ["math adds"] },
      artifacts: ["reports/junit.xml"],
      detail: "1 of 3 tests failed: math adds",
    });
    tick(5);
    expect(store.runs.setState(run.id, "failed", "test failed")).toBe(true);
    // A cancel that arrives after the end changes nothing.
    expect(store.runs.setState(run.id, "cancelled", "superseded")).toBe(false);
    expect(store.runs.get(run.id)).toMatchObject({
      state: "failed",
      reason: "test failed",
      startedAt: 1_005,
      finishedAt: 1_010,
    });
    expect(store.runs.steps(run.id)[0]).toMatchObject({
      state: "failed",
      attempts: 2,
      exitCode: 1,
      tests: { total: 3, failed: 1, failures: ["math adds"] },
      artifacts: ["reports/junit.xml"],
    });
    store.close();
  });

  it("marks what a dead controller was running as interrupted, and keeps queued runs queued", () => {
    const { store } = open();
    const base = {
      pipeline: "api",
      branch: "main",
      trigger: "manual" as const,
      createdBy: "me",
      steps: STEPS,
    };
    const running = store.runs.create({ ...base, commit: "b".repeat(40) });
    const queued = store.runs.create({ ...base, commit: "c".repeat(40) });
    store.runs.setState(running.id, "running");
    store.runs.updateStep(running.id, "test", { state: "passed" });
    store.runs.updateStep(running.id, "image", { state: "running" });
    store.runs.updateStep(running.id, "image", {
      started: { kind: "process", pgid: 42, startTicks: 7 },
    });
    expect(store.runs.interruptRunning("the controller stopped during the run")).toEqual({
      runs: [running.id],
      started: [{ kind: "process", pgid: 42, startTicks: 7 }],
    });
    expect(store.runs.get(running.id)?.state).toBe("interrupted");
    expect(store.runs.steps(running.id).map((s) => s.state)).toEqual([
      "passed",
      "interrupted",
      "interrupted",
    ]);
    expect(store.runs.active().map((r) => r.id)).toEqual([queued.id]);
    expect(store.runs.list("api").map((r) => r.id)).toEqual([queued.id, running.id]);
    store.close();
  });
});
