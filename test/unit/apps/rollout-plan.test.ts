import { describe, expect, it } from "vitest";
import {
  type ReplicaView,
  type RolloutBudget,
  resolveBudget,
  rolloutMoves,
} from "../../../src/apps/rollout-plan.js";
import type { UpdatePolicy } from "../../../src/definition/index.js";

const policy = (
  maxSurge: UpdatePolicy["maxSurge"],
  maxUnavailable: UpdatePolicy["maxUnavailable"],
  strategy: UpdatePolicy["strategy"] = "rolling",
): UpdatePolicy => ({
  strategy,
  maxSurge,
  maxUnavailable,
  healthyDeadlineMs: 30_000,
  drainTimeoutMs: 10_000,
});

const rolling = (maxSurge: number, maxUnavailable: number): RolloutBudget => ({
  strategy: "rolling",
  maxSurge,
  maxUnavailable,
});
const recreate: RolloutBudget = { strategy: "recreate", maxSurge: 0, maxUnavailable: 3 };

let clock = 0;
function replica(id: string, over: Partial<ReplicaView> = {}): ReplicaView {
  clock += 1;
  return { id, current: false, ready: true, stopping: false, startedAt: clock, ...over };
}

describe("resolveBudget", () => {
  it("rounds a surge percentage up and an unavailability percentage down, like Kubernetes", () => {
    expect(resolveBudget(policy("25%", "25%"), 10)).toMatchObject({
      maxSurge: 3,
      maxUnavailable: 2,
    });
    expect(resolveBudget(policy(2, 1), 10)).toMatchObject({ maxSurge: 2, maxUnavailable: 1 });
  });

  it("never resolves to a rollout that cannot move", () => {
    expect(resolveBudget(policy("10%", "10%"), 3)).toEqual({
      strategy: "rolling",
      maxSurge: 1,
      maxUnavailable: 0,
    });
  });

  it("resolves a recreate to no surge and every replica unavailable, whatever the budgets", () => {
    expect(resolveBudget(policy(1, 0, "recreate"), 3)).toEqual({
      strategy: "recreate",
      maxSurge: 0,
      maxUnavailable: 3,
    });
  });
});

describe("rolloutMoves", () => {
  const oldReady = () => [replica("o1"), replica("o2"), replica("o3")];

  it("surge 1, unavailable 0: one new replica first, no old one goes before it is ready", () => {
    const start = rolloutMoves(3, rolling(1, 0), oldReady());
    expect(start).toEqual({ currentAllowed: 1, stopOld: [] });
    const starting = [...oldReady(), replica("n1", { current: true, ready: false })];
    expect(rolloutMoves(3, rolling(1, 0), starting).stopOld).toEqual([]);
  });

  it("takes the oldest ready old replica out once a new one is ready", () => {
    const replicas = [...oldReady(), replica("n1", { current: true })];
    expect(rolloutMoves(3, rolling(1, 0), replicas)).toEqual({
      currentAllowed: 1,
      stopOld: ["o1"],
    });
  });

  it("counts a stopping replica against the surge until it has exited", () => {
    const replicas = [
      replica("o1", { stopping: true, ready: false }),
      replica("o2"),
      replica("o3"),
      replica("n1", { current: true }),
    ];
    expect(rolloutMoves(3, rolling(1, 0), replicas).currentAllowed).toBe(1);
    const exited = replicas.slice(1);
    expect(rolloutMoves(3, rolling(1, 0), exited).currentAllowed).toBe(2);
  });

  it("surge 0, unavailable 1: an old replica goes first, then a new one takes its place", () => {
    expect(rolloutMoves(3, rolling(0, 1), oldReady())).toEqual({
      currentAllowed: 0,
      stopOld: ["o1"],
    });
    const room = [replica("o2"), replica("o3")];
    expect(rolloutMoves(3, rolling(0, 1), room)).toEqual({
      currentAllowed: 1,
      stopOld: [],
    });
  });

  it("stops unready old replicas at once: they serve nobody", () => {
    const replicas = [replica("o1"), replica("o2", { ready: false }), replica("o3")];
    expect(rolloutMoves(3, rolling(1, 0), replicas).stopOld).toEqual(["o2"]);
  });

  it("stops every old replica once the new ones are all ready", () => {
    const replicas = [
      replica("o1"),
      replica("n1", { current: true }),
      replica("n2", { current: true }),
      replica("n3", { current: true }),
    ];
    expect(rolloutMoves(3, rolling(1, 0), replicas).stopOld).toEqual(["o1"]);
  });

  it("changes nothing when everything runs the current revision", () => {
    const replicas = [replica("n1", { current: true }), replica("n2", { current: true })];
    expect(rolloutMoves(2, rolling(1, 0), replicas)).toEqual({
      currentAllowed: 2,
      stopOld: [],
    });
  });
});

describe("rolloutMoves with strategy: recreate", () => {
  const oldOnes = () => [replica("o1"), replica("o2", { ready: false }), replica("o3")];

  it("stops every old replica at once, ready or not, and starts nothing beside them", () => {
    expect(rolloutMoves(3, recreate, oldOnes())).toEqual({
      currentAllowed: 0,
      stopOld: ["o1", "o2", "o3"],
    });
  });

  it("starts nothing while an old replica is still stopping: what it holds is not free yet", () => {
    const leaving = [replica("o1", { stopping: true, ready: false })];
    expect(rolloutMoves(3, recreate, leaving)).toEqual({ currentAllowed: 0, stopOld: [] });
  });

  it("starts every new replica at once when the last old one has exited", () => {
    expect(rolloutMoves(3, recreate, [])).toEqual({ currentAllowed: 3, stopOld: [] });
    const some = [replica("n1", { current: true })];
    expect(rolloutMoves(3, recreate, some)).toEqual({ currentAllowed: 3, stopOld: [] });
  });

  it("on the way back, stops the failed revision's replicas before the good one starts", () => {
    // Rolling back, the revision coming back is the current one; the failed one is old.
    const failed = [replica("n1", { ready: false }), replica("g1", { current: true })];
    expect(rolloutMoves(3, recreate, failed)).toEqual({ currentAllowed: 0, stopOld: ["n1"] });
  });
});
