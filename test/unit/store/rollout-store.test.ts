import { afterEach, describe, expect, it } from "vitest";
import { SqliteStore } from "../../../src/store/index.js";
import { tempStateDirs } from "./helpers.js";

const dirs = tempStateDirs();
const opened: SqliteStore[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
  dirs.cleanup();
});

function open(dir = dirs.make()): { store: SqliteStore; dir: string } {
  let t = 1_000;
  const store = SqliteStore.open(dir, { create: true, now: () => (t += 10) });
  opened.push(store);
  return { store, dir };
}

describe("RolloutStore", () => {
  it("keeps one unfinished rollout per app: a new one supersedes it in the same step", () => {
    const { store } = open();
    const first = store.rollouts.start({
      app: "web",
      from: "a",
      to: "b",
      trigger: "apply",
      by: "me",
    });
    expect(first).toMatchObject({ state: "progressing", fromRevision: "a", toRevision: "b" });
    const second = store.rollouts.start({
      app: "web",
      from: "a",
      to: "c",
      trigger: "apply",
      by: "me",
    });
    expect(store.rollouts.get(first.id)).toMatchObject({
      state: "superseded",
      reason: "superseded by a rollout to c",
    });
    expect(store.rollouts.get(first.id)?.finishedAt).not.toBeNull();
    expect(store.rollouts.active("web")?.id).toBe(second.id);
    // Another app's rollout is its own.
    store.rollouts.start({ app: "api", from: null, to: "x", trigger: "apply", by: "me" });
    expect(store.rollouts.active("web")?.id).toBe(second.id);
    expect(store.rollouts.history("web").map((r) => r.id)).toEqual([second.id, first.id]);
  });

  it("journals steps in order, each transition with its step, and survives a reopen", () => {
    const { store, dir } = open();
    const r = store.rollouts.start({ app: "web", from: "a", to: "b", trigger: "apply", by: "me" });
    store.rollouts.appendStep(r.id, { action: "started", replica: "web-b-1", detail: "pid 1" });
    store.rollouts.update(r.id, {
      state: "rolling-back",
      reason: "web-b-1 exited with code 1",
      lastOutput: ["boom"],
      step: { action: "failed", detail: "web-b-1 exited with code 1" },
    });
    store.rollouts.update(r.id, { state: "rolled-back", finished: true });
    store.close();
    opened.splice(0);
    const again = open(dir).store;
    expect(again.rollouts.steps(r.id).map((s) => [s.seq, s.action])).toEqual([
      [1, "begin"],
      [2, "started"],
      [3, "failed"],
    ]);
    expect(again.rollouts.get(r.id)).toMatchObject({
      state: "rolled-back",
      reason: "web-b-1 exited with code 1",
      lastOutput: ["boom"],
    });
    expect(again.rollouts.servingRevision("web")).toBe("a");
    expect(again.rollouts.active("web")).toBeUndefined();
  });

  it("serves the last rolled-out revision, or the one a rollback went back to", () => {
    const { store } = open();
    expect(store.rollouts.servingRevision("web")).toBeUndefined();
    const r = store.rollouts.start({ app: "web", from: null, to: "a", trigger: "apply", by: "me" });
    store.rollouts.update(r.id, { state: "rolled-out", finished: true });
    expect(store.rollouts.servingRevision("web")).toBe("a");
    const failed = store.rollouts.start({
      app: "web",
      from: "a",
      to: "b",
      trigger: "apply",
      by: "me",
    });
    store.rollouts.update(failed.id, { state: "failed", finished: true });
    expect(store.rollouts.servingRevision("web")).toBe("a");
  });

  it("keeps the spec of a revision once, marks it bad, and clears the mark when the definition moves", () => {
    const { store } = open();
    store.rollouts.saveRevision("web", "aaaa11112222", { command: "one" });
    store.rollouts.saveRevision("web", "aaaa11112222", { command: "changed?" });
    store.rollouts.saveRevision("web", "aaaa33334444", { command: "two" });
    expect(JSON.parse(store.rollouts.revision("web", "aaaa11112222")!.spec)).toEqual({
      command: "one",
    });
    expect(store.rollouts.revisionsStartingWith("web", "aaaa").length).toBe(2);
    expect(store.rollouts.revisionsStartingWith("web", "aaaa3").map((r) => r.revision)).toEqual([
      "aaaa33334444",
    ]);
    store.rollouts.markBad("web", "aaaa33334444", "not ready", '{"strategy":"rolling"}');
    store.rollouts.clearBadExcept("web", "aaaa33334444");
    expect(store.rollouts.revision("web", "aaaa33334444")).toMatchObject({
      badReason: "not ready",
      badPolicy: '{"strategy":"rolling"}',
    });
    store.rollouts.clearBadExcept("web", "aaaa11112222");
    expect(store.rollouts.revision("web", "aaaa33334444")).toMatchObject({
      badReason: null,
      badPolicy: null,
    });
  });

  it("clears the bad mark of one revision, for a retry", () => {
    const { store } = open();
    store.rollouts.saveRevision("web", "aaaa11112222", { command: "one" });
    store.rollouts.saveRevision("web", "aaaa33334444", { command: "two" });
    store.rollouts.markBad("web", "aaaa11112222", "exited", null);
    store.rollouts.markBad("web", "aaaa33334444", "exited", null);
    store.rollouts.clearBad("web", "aaaa33334444");
    expect(store.rollouts.revision("web", "aaaa33334444")?.badReason).toBeNull();
    expect(store.rollouts.revision("web", "aaaa11112222")?.badReason).toBe("exited");
  });

  it("records how many old replicas ran when a rollout failed", () => {
    const { store } = open();
    const r = store.rollouts.start({ app: "web", from: "a", to: "b", trigger: "apply", by: "me" });
    expect(r.oldRunning).toBeNull();
    store.rollouts.update(r.id, { state: "rolling-back", reason: "exited", oldRunning: 1 });
    expect(store.rollouts.update(r.id, { state: "rolled-back", finished: true })?.oldRunning).toBe(
      1,
    );
  });

  it("pins a revision and replaces the pin", () => {
    const { store } = open();
    expect(store.rollouts.pin("web")).toBeUndefined();
    store.rollouts.setPin("web", "old", "def1");
    store.rollouts.setPin("web", "older", "def1");
    expect(store.rollouts.pin("web")).toEqual({ revision: "older", baseRevision: "def1" });
    store.rollouts.clearPin("web");
    expect(store.rollouts.pin("web")).toBeUndefined();
  });
});
