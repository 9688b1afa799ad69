import { describe, expect, it } from "vitest";
import { supersededRuns } from "../../../src/delivery/supersede.js";
import type { RunRecord, StepRecord } from "../../../src/store/index.js";

function runRecord(id: number, state: RunRecord["state"], branch = "main"): RunRecord {
  return {
    id,
    pipeline: "api",
    branch,
    commit: String(id).repeat(40).slice(0, 40),
    subject: "",
    trigger: "push",
    state,
    reason: null,
    createdAt: id,
    startedAt: null,
    finishedAt: null,
    createdBy: "hook",
    release: null,
  };
}

function step(name: string, kind: StepRecord["kind"], state: StepRecord["state"]): StepRecord {
  return {
    runId: 0,
    seq: 0,
    name,
    kind,
    state,
    attempts: 0,
    exitCode: null,
    detail: null,
    tests: null,
    artifacts: [],
    startedAt: null,
    finishedAt: null,
    approvedBy: null,
    approvedAt: null,
    started: null,
  };
}

describe("runs a newer commit supersedes", () => {
  const testing = [step("test", "run", "running"), step("dev", "deploy", "pending")];
  const deploying = [step("test", "run", "passed"), step("dev", "deploy", "running")];

  it("cancels older queued runs and running ones that have not started to deploy", () => {
    const newer = runRecord(5, "queued");
    const active = [
      { run: runRecord(1, "running"), steps: deploying },
      { run: runRecord(2, "running"), steps: testing },
      { run: runRecord(3, "queued"), steps: [] },
      { run: runRecord(4, "queued", "feature"), steps: [] },
      { run: runRecord(6, "queued"), steps: [] },
    ];
    expect(supersededRuns(newer, active, true)).toEqual([2, 3]);
  });

  it("cancels nothing when the pipeline says so", () => {
    expect(
      supersededRuns(runRecord(5, "queued"), [{ run: runRecord(3, "queued"), steps: [] }], false),
    ).toEqual([]);
  });
});
