/**
 * Which finished runs lose their files to retention, and the sweep that removes them: a
 * real SQLite store and real directories in a temporary state, a clock the test moves.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  DEFAULT_RETENTION,
  formatAge,
  prunableRuns,
  RetentionSweep,
  runDirectory,
} from "../../../src/delivery/index.js";
import { type NewEvent, type RunState, SqliteStore } from "../../../src/store/index.js";
import { ManualTimers } from "./manual-timers.js";

const DAY = 86_400_000;
const HOUR = 3_600_000;

describe("which runs retention removes", () => {
  const finished = (id: number, finishedAt: number, pruned = false) => ({ id, finishedAt, pruned });

  it("keeps the newest N finished runs, by number, whatever order they ended in", () => {
    const runs = [finished(1, 50), finished(2, 10), finished(3, 40), finished(4, 30)];
    expect(prunableRuns("api", runs, { runs: 2, maxAgeMs: DAY }, 100)).toEqual([
      { id: 1, reason: "pipeline api keeps 2 runs" },
      { id: 2, reason: "pipeline api keeps 2 runs" },
    ]);
  });

  it("removes runs that ended longer ago than maxAge, and says both reasons when both hold", () => {
    const now = 100 * DAY;
    const runs = [finished(7, now - 31 * DAY), finished(8, now - 30 * DAY), finished(9, now)];
    expect(prunableRuns("api", runs, { runs: 50, maxAgeMs: 30 * DAY }, now)).toEqual([
      { id: 7, reason: "older than 30d" },
    ]);
    expect(prunableRuns("web", runs, { runs: 1, maxAgeMs: 30 * DAY }, now)).toEqual([
      { id: 7, reason: "older than 30d, pipeline web keeps 1 runs" },
      { id: 8, reason: "pipeline web keeps 1 runs" },
    ]);
  });

  it("counts runs already pruned among the newest but does not return them again", () => {
    const runs = [finished(1, 1, true), finished(2, 2, true), finished(3, 3), finished(4, 4)];
    expect(prunableRuns("api", runs, { runs: 1, maxAgeMs: DAY }, 10)).toEqual([
      { id: 3, reason: "pipeline api keeps 1 runs" },
    ]);
    expect(prunableRuns("api", runs, { runs: 3, maxAgeMs: DAY }, 10)).toEqual([]);
  });

  it("writes ages in days where they are whole days", () => {
    expect(formatAge(30 * DAY)).toBe("30d");
    expect(formatAge(DAY + 12 * HOUR)).toBe("1d12h");
    expect(formatAge(36 * 60_000)).toBe("36m");
    expect(DEFAULT_RETENTION).toEqual({
      runs: 50,
      maxAgeMs: 30 * DAY,
      maxLogBytes: 10 * 1024 ** 2,
    });
  });
});

describe("the retention sweep", () => {
  const temps: string[] = [];
  afterEach(() => {
    for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function setup(start: number) {
    const state = mkdtempSync(join(tmpdir(), "baton-retention-"));
    temps.push(state);
    const timers = new ManualTimers(start);
    const store = SqliteStore.open(state, { create: true, now: () => timers.now() });
    const runsDir = join(state, "runs");
    const events: NewEvent[] = [];
    const busy = new Set<number>();
    /** A run of `pipeline` that ends in `state` now, with files in runs/<id>/. */
    const run = (pipeline: string, state: RunState | "queued") => {
      const record = store.runs.create({
        pipeline,
        branch: "main",
        commit: "a".repeat(40),
        trigger: "manual",
        createdBy: "test",
        steps: [{ name: "test", kind: "run" }],
      });
      const dir = runDirectory(runsDir, record.id);
      mkdirSync(join(dir, "logs"), { recursive: true });
      writeFileSync(join(dir, "logs", "test.log"), "ok\n");
      if (state !== "queued") store.runs.setState(record.id, "running");
      if (state !== "queued" && state !== "running") store.runs.setState(record.id, state);
      return record.id;
    };
    const sweep = new RetentionSweep({
      store: store.runs,
      runsDir,
      emit: (event) => events.push(event),
      limitsOf: (pipeline) =>
        pipeline === "api" ? { runs: 2, maxAgeMs: 7 * DAY } : DEFAULT_RETENTION,
      busy: (id) => busy.has(id),
      timers,
      everyMs: HOUR,
    });
    return { state, store, runsDir, events, busy, run, sweep, timers };
  }

  it("removes only finished runs' directories, keeps their records, and tells it once", async () => {
    const t = setup(1_000 * DAY);
    const artifacts = join(t.state, "artifacts", "api", "abc");
    mkdirSync(artifacts, { recursive: true });
    const old = [t.run("api", "passed"), t.run("api", "failed"), t.run("api", "cancelled")];
    const running = t.run("api", "running");
    const queued = t.run("api", "queued");
    const newest = [t.run("api", "interrupted"), t.run("api", "passed")];
    const other = t.run("web", "passed");
    try {
      const removed = await t.sweep.sweep();
      expect(removed.map((r) => r.id)).toEqual(old);
      for (const id of old) expect(existsSync(runDirectory(t.runsDir, id))).toBe(false);
      for (const id of [running, queued, ...newest, other]) {
        expect(existsSync(runDirectory(t.runsDir, id))).toBe(true);
      }
      expect(existsSync(artifacts)).toBe(true);
      expect(t.store.runs.get(old[0] as number)?.pruned).toEqual({
        at: 1_000 * DAY,
        reason: "pipeline api keeps 2 runs",
      });
      expect(t.store.runs.get(newest[0] as number)?.pruned).toBeUndefined();
      expect(t.store.runs.list("api")).toHaveLength(7);
      expect(t.events.map((e) => e.type)).toEqual(["run.pruned"]);
      expect(t.events[0]?.message).toBe(
        `retention removed the files of 3 finished runs: api #${old.join(", #")}`,
      );
      expect(t.events[0]?.data).toEqual({ count: 3, runs: old });

      // Nothing more to remove: no event.
      expect(await t.sweep.sweep()).toEqual([]);
      expect(t.events).toHaveLength(1);
    } finally {
      t.store.close();
    }
  });

  it("names the first ten runs of a large sweep in its one event", async () => {
    const t = setup(DAY);
    const ids = Array.from({ length: 14 }, () => t.run("api", "passed"));
    t.run("web", "passed");
    try {
      expect(await t.sweep.sweep()).toHaveLength(12);
      expect(t.events).toHaveLength(1);
      expect(t.events[0]?.message).toBe(
        `retention removed the files of 12 finished runs: api #${ids.slice(0, 10).join(", #")} and 2 more`,
      );
    } finally {
      t.store.close();
    }
  });

  it("leaves a run the runner is still winding down, and takes it on a later sweep", async () => {
    const t = setup(DAY);
    const first = t.run("api", "cancelled");
    t.run("api", "passed");
    t.run("api", "passed");
    t.busy.add(first);
    try {
      expect(await t.sweep.sweep()).toEqual([]);
      expect(existsSync(runDirectory(t.runsDir, first))).toBe(true);
      t.busy.delete(first);
      expect((await t.sweep.sweep()).map((r) => r.id)).toEqual([first]);
    } finally {
      t.store.close();
    }
  });

  it("sweeps when started and every hour after: runs past maxAge go on the hour", async () => {
    const t = setup(10 * DAY);
    const run = t.run("api", "passed");
    try {
      t.sweep.start();
      await t.sweep.idle();
      expect(existsSync(runDirectory(t.runsDir, run))).toBe(true);
      t.timers.advanceTo(17 * DAY);
      await t.sweep.idle();
      expect(existsSync(runDirectory(t.runsDir, run))).toBe(true);
      t.timers.advanceTo(17 * DAY + HOUR);
      await t.sweep.idle();
      expect(existsSync(runDirectory(t.runsDir, run))).toBe(false);
      expect(t.store.runs.get(run)?.pruned?.reason).toBe("older than 7d");
      await t.sweep.stop();
      expect(t.timers.count).toBe(0);
    } finally {
      t.store.close();
    }
  });
});
