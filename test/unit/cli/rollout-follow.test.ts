import { describe, expect, it } from "vitest";
import type { AppHistory, RolloutStatus } from "../../../src/apps/rollout-types.js";
import { CliError } from "../../../src/cli/errors.js";
import {
  type FollowOutput,
  followRollout,
  outcomeError,
  type RolloutSource,
} from "../../../src/cli/rollout-follow.js";
import { formatStep } from "../../../src/cli/rollout-view.js";
import { history, rollout, status, step } from "./fixtures.js";

/** Answers the polls in order (the last one repeats) and records what following printed. */
function scripted(answers: RolloutStatus[], past: AppHistory = history(null, [])) {
  let polls = 0;
  const printed: string[] = [];
  const progress: string[] = [];
  let clock = 0;
  const source: RolloutSource = {
    status: async () => answers[Math.min(polls++, answers.length - 1)] as RolloutStatus,
    history: async () => past,
  };
  const output: FollowOutput = {
    step: (line) => printed.push(line),
    progress: (line) => progress.push(line),
    clear: () => {},
  };
  const options = {
    timeoutMs: 1_000,
    output,
    now: () => clock,
    sleep: async (ms: number) => {
      clock += ms;
    },
  };
  return { source, options, printed, progress, polls: () => polls };
}

const running = rollout({ id: 7, state: "progressing", finishedAt: null });
const s1 = step(7, 1, "started", "web-5");
const s2 = step(7, 2, "ready", "web-5");
const s3 = step(7, 3, "done", null);

describe("followRollout", () => {
  it("prints each step once, in order, and returns the rollout when it ends", async () => {
    const t = scripted([
      status(running, [s1]),
      status(running, [s1, s2]),
      status(rollout({ id: 7 }), [s1, s2, s3]),
    ]);
    const ended = await followRollout(t.source, "web", t.options);
    expect(ended?.state).toBe("rolled-out");
    expect(t.printed).toEqual([s1, s2, s3].map(formatStep));
    expect(t.progress).toEqual(["updated 2/4, old 2", "updated 2/4, old 2"]);
  });

  it("waits on the source's changes instead of sleeping, and lets go of them at the end", async () => {
    const t = scripted([status(running, [s1]), status(rollout({ id: 7 }), [s1, s2, s3])]);
    const waits: number[] = [];
    let closed = 0;
    const source: RolloutSource = {
      ...t.source,
      changed: async (_app, ms) => void waits.push(ms),
      close: () => void closed++,
    };
    const slept: number[] = [];
    const options = {
      ...t.options,
      intervalMs: 150,
      sleep: async (ms: number) => void slept.push(ms),
    };
    expect((await followRollout(source, "web", options))?.state).toBe("rolled-out");
    expect(waits).toEqual([150]);
    expect(slept).toEqual([]);
    expect(closed).toBe(1);
  });

  it("lets go of the source's changes when following fails", async () => {
    let closed = 0;
    const source: RolloutSource = {
      status: async () => {
        throw new CliError("api.unreachable", "gone");
      },
      history: async () => history(null, []),
      close: () => void closed++,
    };
    await expect(followRollout(source, "web", { timeoutMs: 1_000 })).rejects.toThrow("gone");
    expect(closed).toBe(1);
  });

  it("returns a rollout that had ended before without replaying its journal", async () => {
    const t = scripted([status(rollout({ id: 7, state: "failed" }), [s1, s2])]);
    expect((await followRollout(t.source, "web", t.options))?.state).toBe("failed");
    expect(t.printed).toEqual([]);
  });

  it("replays the journal of the rollout it was handed, even if it has ended", async () => {
    const t = scripted([status(rollout({ id: 7, state: "rolled-back" }), [s1, s2])]);
    await followRollout(t.source, "web", { ...t.options, rolloutId: 7 });
    expect(t.printed).toEqual([s1, s2].map(formatStep));
  });

  it("returns null for an app that never rolled out", async () => {
    const t = scripted([status(null)]);
    expect(await followRollout(t.source, "web", t.options)).toBeNull();
  });

  it("finds its rollout in the history once a newer one has started", async () => {
    const newer = rollout({ id: 8, state: "progressing", finishedAt: null });
    const superseded = rollout({ id: 7, state: "superseded", reason: "rollout 8 started" });
    const t = scripted(
      [status(running, [s1]), status(newer, [step(8, 1, "started", "web-6")])],
      history(null, [newer, superseded]),
    );
    expect(await followRollout(t.source, "web", t.options)).toEqual(superseded);
    expect(t.printed).toEqual([formatStep(s1)]);
  });

  it("waits for the rollout it was handed to show in the status", async () => {
    const t = scripted([
      status(rollout({ id: 6 })),
      status(rollout({ id: 7, state: "rolled-out" }), [s1]),
    ]);
    expect((await followRollout(t.source, "web", { ...t.options, rolloutId: 7 }))?.id).toBe(7);
  });

  it("gives up at the deadline with where the rollout stands", async () => {
    const t = scripted([status(running, [s1])]);
    const error = await followRollout(t.source, "web", t.options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).code).toBe("rollout.timeout");
    expect((error as CliError).message).toBe(
      "rollout 7 of web still in progress (updated 2/4, old 2) after 1s",
    );
    expect(t.polls()).toBe(6); // at 0, 200, …, 1000 ms
  });
});

describe("outcomeError", () => {
  it("is none for a rollout that rolled out or has not ended", () => {
    expect(outcomeError(rollout({ id: 1 }))).toBeUndefined();
    expect(outcomeError(running)).toBeUndefined();
  });

  it("names the outcome in its code and points to the logs", () => {
    const error = outcomeError(rollout({ id: 7, state: "rolled-back", reason: "web-5 unready" }));
    expect(error?.code).toBe("rollout.rolled_back");
    expect(error?.message).toContain("rolled back");
    expect(error?.hint).toBe(
      "`baton logs web --all` shows the replicas' output; `baton history web` every rollout",
    );
  });
});
