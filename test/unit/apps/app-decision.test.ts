/**
 * A pass's decision with fixtures: healing, crash-loop backoff, surge during a rollout,
 * dependsOn and the healthy deadline, each without starting a process.
 */
import { describe, expect, it } from "vitest";
import {
  checkDeadline,
  decideStarts,
  type RolloutReplica,
  type SlotView,
  type StartInput,
} from "../../../src/apps/app-decision.js";
import type { ReplicaView, RolloutBudget } from "../../../src/apps/rollout-plan.js";

const rolling = (maxSurge: number, maxUnavailable: number): RolloutBudget => ({
  strategy: "rolling",
  maxSurge,
  maxUnavailable,
});
const NOW = 1_000_000;
const empty: SlotView = { occupied: false, restartAt: 0 };
const held: SlotView = { occupied: true, restartAt: 0 };
const current = (id: string, over: Partial<ReplicaView> = {}): ReplicaView => ({
  id,
  current: true,
  ready: true,
  stopping: false,
  startedAt: 1,
  ...over,
});
const old = (id: string, over: Partial<ReplicaView> = {}): ReplicaView =>
  current(id, { current: false, ...over });

function input(over: Partial<StartInput>): StartInput {
  return {
    desired: 3,
    budget: rolling(1, 0),
    replicas: [],
    slots: [],
    now: NOW,
    unreadyDependencies: [],
    ...over,
  };
}

describe("decideStarts", () => {
  it("replaces an exited replica at once: its empty slot starts", () => {
    const decision = decideStarts(
      input({
        replicas: [current("a"), current("b")],
        slots: [held, empty, held],
      }),
    );
    expect(decision).toEqual({ start: [1], stopOld: [], waitingFor: [], wakeInMs: undefined });
  });

  it("waits out a crash-looping slot's backoff, and says when to look again", () => {
    const decision = decideStarts(
      input({
        replicas: [current("a")],
        slots: [
          held,
          { occupied: false, restartAt: NOW + 4_000 },
          { occupied: false, restartAt: NOW + 1_500 },
        ],
      }),
    );
    expect(decision.start).toEqual([]);
    expect(decision.wakeInMs).toBe(1_500);
  });

  it("starts one new replica at a time within a surge of 1, old ones still running", () => {
    const decision = decideStarts(
      input({
        replicas: [old("o1"), old("o2"), old("o3")],
        slots: [empty, empty, empty],
      }),
    );
    // 3 old + 1 new = desired + surge; no old one may go before a new one is ready.
    expect(decision).toMatchObject({ start: [0], stopOld: [] });
  });

  it("counts an old replica still stopping against the surge until it has exited", () => {
    const decision = decideStarts(
      input({
        replicas: [
          current("n1"),
          old("o1", { stopping: true, ready: false }),
          old("o2"),
          old("o3"),
        ],
        slots: [held, empty, empty],
      }),
    );
    // o1 leaving still holds the room the surge gives: no second new replica yet.
    expect(decision.start).toEqual([]);
    // n1 took o1's place: 3 ready, none more may go before another new one is ready.
    expect(decision.stopOld).toEqual([]);
  });

  it("starts nothing while a dependency is not ready, and names it", () => {
    const decision = decideStarts(
      input({ slots: [empty, empty, empty], unreadyDependencies: ["db"] }),
    );
    expect(decision).toMatchObject({ start: [], waitingFor: ["db"] });
  });

  it("does not call a slot in backoff waiting for a dependency", () => {
    const decision = decideStarts(
      input({
        desired: 1,
        slots: [{ occupied: false, restartAt: NOW + 500 }],
        unreadyDependencies: ["db"],
      }),
    );
    expect(decision).toMatchObject({ start: [], waitingFor: [], wakeInMs: 500 });
  });

  it("stops every old replica first in a recreate, and starts only once they are gone", () => {
    const recreate: RolloutBudget = { strategy: "recreate", maxSurge: 0, maxUnavailable: 2 };
    const first = decideStarts(
      input({
        desired: 2,
        budget: recreate,
        replicas: [old("o1"), old("o2")],
        slots: [empty, empty],
      }),
    );
    expect(first).toMatchObject({ start: [], stopOld: ["o1", "o2"] });
    const gone = decideStarts(input({ desired: 2, budget: recreate, slots: [empty, empty] }));
    expect(gone.start).toEqual([0, 1]);
  });
});

describe("checkDeadline", () => {
  const fmt = (ms: number) => `${ms / 1000}s`;
  const fresh = (id: string, over: Partial<RolloutReplica> = {}): RolloutReplica => ({
    id,
    slotted: true,
    ready: false,
    stopping: false,
    startedAt: NOW - 1_000,
    detail: "",
    ...over,
  });

  it("fails the rollout on the first new replica past its deadline, saying why", () => {
    const verdict = checkDeadline(
      [fresh("n1"), fresh("n2", { startedAt: NOW - 31_000, detail: "GET /healthz: 503" })],
      30_000,
      NOW,
      fmt,
    );
    expect(verdict).toEqual({
      kind: "fail",
      replica: "n2",
      reason: "n2 was not ready within 30s: GET /healthz: 503",
    });
  });

  it("waits for the earliest deadline; ready, stopping or surplus replicas do not count", () => {
    const verdict = checkDeadline(
      [
        fresh("n1", { startedAt: NOW - 10_000 }),
        fresh("n2", { startedAt: NOW - 20_000 }),
        fresh("n3", { startedAt: NOW - 99_000, ready: true }),
        fresh("n4", { startedAt: NOW - 99_000, stopping: true }),
        fresh("n5", { startedAt: NOW - 99_000, slotted: false }),
      ],
      30_000,
      NOW,
      fmt,
    );
    expect(verdict).toEqual({ kind: "wait", wakeInMs: 10_000 });
  });
});
