import { describe, expect, it } from "vitest";
import { recreateHint, rolledBackHint } from "../../../src/cli/rollout-hints.js";
import { renderHistory } from "../../../src/cli/rollout-view.js";
import { history, REV_A, rollout } from "./fixtures.js";

const postgres = [
  'FATAL:  lock file "postmaster.pid" already exists',
  'HINT:  Is another postmaster (PID 866) running in data directory "/srv/pg"?',
];
const beside = (lastOutput: readonly string[], oldRunning: number | null = 1) => ({
  app: "db",
  oldRunning,
  lastOutput,
});

describe("recreateHint", () => {
  it("suggests `strategy: recreate` when the new replica failed on a lock beside an old one", () => {
    expect(recreateHint(beside(postgres))).toBe(
      "the new replica failed beside a running one of the old revision, on something that one holds (a lock, an address in use): add `update: { strategy: recreate }` to db to stop the old replicas before new ones start, and apply again",
    );
  });

  it.each([
    ["SQLite", "Error: SQLITE_BUSY: database is locked"],
    ["a lock file", "cannot create /data/app.lockfile: File exists"],
    ["Node", "Error: listen EADDRINUSE: address already in use 127.0.0.1:6379"],
    ["Redis", "Could not create server TCP listening socket *:6379: bind: Address already in use"],
    ["a taken port", "port 9000 is already taken by another process"],
    ["a port in use", "FATAL: the port 5432 is in use"],
  ])("recognises %s", (_, line) => {
    expect(recreateHint(beside(["starting", line]))).toMatch(/strategy: recreate/);
  });

  it("says nothing when no old replica ran beside it: a recreate would not help", () => {
    expect(recreateHint(beside(postgres, 0))).toBeUndefined();
    expect(recreateHint(beside(postgres, null))).toBeUndefined();
  });

  it("says nothing for failures of the revision itself", () => {
    expect(recreateHint(beside(["web-1 crashing on purpose"]))).toBeUndefined();
    expect(
      recreateHint(beside(["TypeError: blocked is not a function", "clock skew"])),
    ).toBeUndefined();
    expect(recreateHint(beside([]))).toBeUndefined();
  });
});

describe("rolledBackHint", () => {
  it("points to the logs, a changed definition or a retry when no recreate fits", () => {
    expect(rolledBackHint(beside(["exited"]))).toBe(
      "see `baton logs db --all` and `baton history db`; fix the definition (a new revision or another update policy is tried again) and apply it, or `baton rollout retry db` once what it lacked is there",
    );
  });
});

describe("`baton history` after a rollout that failed on a lock", () => {
  it("ends with the recreate hint", () => {
    const failed = rollout({ id: 2, state: "rolled-back", lastOutput: postgres, oldRunning: 1 });
    const text = renderHistory(history(REV_A, [failed, rollout({ id: 1 })]), { color: false });
    expect(text.split("\n").at(-1)).toMatch(
      /^hint: the new replica failed beside .* strategy: recreate/,
    );
  });

  it("has no hint once a later rollout went through", () => {
    const failed = rollout({ id: 2, state: "rolled-back", lastOutput: postgres, oldRunning: 1 });
    const text = renderHistory(history(REV_A, [rollout({ id: 3 }), failed]), { color: false });
    expect(text).not.toMatch(/hint:/);
  });
});
