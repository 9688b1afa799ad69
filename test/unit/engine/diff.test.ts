import { describe, expect, it } from "vitest";
import { diff } from "../../../src/engine/index.js";
import { app, running } from "./fixtures.js";

const summary = (changes: ReturnType<typeof diff>) =>
  changes.map((c) => [c.type, `${c.key.kind}/${c.key.name}`, c.reason]);

describe("diff", () => {
  it("creates what is defined and not running", () => {
    expect(summary(diff([app("web", "aaaaaaaa", 2)], []))).toEqual([["create", "app/web", "new"]]);
  });

  it("creates what is observed with no revisions left", () => {
    const changes = diff([app("web", "aaaaaaaa", 2)], [running("web", {})]);
    expect(summary(changes)).toEqual([["create", "app/web", "new"]]);
    expect(changes[0]?.observed).toEqual(running("web", {}));
  });

  it("deletes what runs and is no longer defined", () => {
    const changes = diff([], [running("old", { aaaaaaaa: 1 })]);
    expect(summary(changes)).toEqual([["delete", "app/old", "no longer defined"]]);
    expect(changes[0]?.desired).toBeUndefined();
  });

  it("replaces what runs another revision", () => {
    const changes = diff([app("web", "4d5e6f7788", 2)], [running("web", { "1a2b3c4d5e": 2 })]);
    expect(summary(changes)).toEqual([["replace", "app/web", "revision 1a2b3c → 4d5e6f"]]);
  });

  it("says when a replace also changes the size", () => {
    const changes = diff([app("web", "4d5e6f", 5)], [running("web", { "1a2b3c": 3 })]);
    expect(summary(changes)).toEqual([
      ["replace", "app/web", "revision 1a2b3c → 4d5e6f, 3 → 5 replicas"],
    ]);
  });

  it("counts mixed revisions as a replace still under way", () => {
    const changes = diff([app("web", "4d5e6f", 3)], [running("web", { "1a2b3c": 2, "4d5e6f": 1 })]);
    expect(summary(changes)).toEqual([
      ["replace", "app/web", "revision 1a2b3c → 4d5e6f (mid-rollout, 1 of 3 updated)"],
    ]);
  });

  it("lists every old revision when several are running", () => {
    const changes = diff([app("web", "4d5e6f", 3)], [running("web", { "1a2b3c": 2, "7a7a7a": 1 })]);
    expect(summary(changes)).toEqual([["replace", "app/web", "revisions 1a2b3c, 7a7a7a → 4d5e6f"]]);
  });

  it("scales what runs the desired revision at another size", () => {
    expect(summary(diff([app("api", "abc", 5)], [running("api", { abc: 3 })]))).toEqual([
      ["scale", "app/api", "3 → 5 replicas"],
    ]);
    expect(summary(diff([app("api", "abc", 1)], [running("api", { abc: 3 })]))).toEqual([
      ["scale", "app/api", "3 → 1 replica"],
    ]);
  });

  it("leaves alone what matches, and what has no size to compare", () => {
    const changes = diff(
      [app("db", "abc", 1), app("motd", "fff")],
      [running("db", { abc: 1 }), running("motd", { fff: 1 })],
    );
    expect(summary(changes)).toEqual([
      ["unchanged", "app/db", "up to date"],
      ["unchanged", "app/motd", "up to date"],
    ]);
  });

  it("keeps the definition's order, then the deletes in observed order", () => {
    const changes = diff(
      [app("c", "1", 1), app("a", "1", 1), app("b", "1", 1)],
      [running("y", { "1": 1 }), running("a", { "1": 1 }), running("x", { "1": 1 })],
    );
    expect(changes.map((c) => [c.type, c.key.name])).toEqual([
      ["create", "c"],
      ["unchanged", "a"],
      ["create", "b"],
      ["delete", "y"],
      ["delete", "x"],
    ]);
  });

  it("tells resources of different kinds with one name apart", () => {
    const changes = diff(
      [{ kind: "host", name: "web", revision: "1", spec: {} }],
      [running("web", { "1": 1 })],
    );
    expect(summary(changes)).toEqual([
      ["create", "host/web", "new"],
      ["delete", "app/web", "no longer defined"],
    ]);
  });

  it("rejects a resource defined twice", () => {
    expect(() => diff([app("web", "1"), app("web", "2")], [])).toThrow(
      expect.objectContaining({
        name: "PlanError",
        code: "engine.duplicate_resource",
        message: "app/web is defined more than once",
      }),
    );
  });
});

describe("diff of in-place settings", () => {
  const observed = {
    kind: "app",
    name: "web",
    revisions: [{ revision: "aaaaaaaa", size: 2 }],
    settings: { port: "8080", listen: "127.0.0.1" },
  };
  const desired = (settings: Record<string, string>, size = 2) => ({
    kind: "app",
    name: "web",
    revision: "aaaaaaaa",
    size,
    settings,
    spec: {},
  });

  it("reconfigures when only settings differ, naming each one", () => {
    const [change] = diff([desired({ port: "8081", listen: "0.0.0.0" })], [observed]);
    expect(change).toMatchObject({
      type: "reconfigure",
      reason: "listen 127.0.0.1 → 0.0.0.0, port 8080 → 8081",
      changes: [
        { field: "listen", from: "127.0.0.1", to: "0.0.0.0" },
        { field: "port", from: "8080", to: "8081" },
      ],
    });
  });

  it("gives a replace the settings that change with it, which its reason does not name", () => {
    const [change] = diff(
      [{ ...desired({ port: "8081", listen: "127.0.0.1" }), revision: "bbbbbbbb" }],
      [observed],
    );
    expect(change).toMatchObject({
      type: "replace",
      reason: "revision aaaaaa → bbbbbb",
      changes: [{ field: "port", from: "8080", to: "8081" }],
    });
  });

  it("names a setting that appears or goes as absent on one side", () => {
    const [change] = diff([desired({ port: "8080" })], [observed]);
    expect(change).toMatchObject({
      reason: "listen 127.0.0.1 → none",
      changes: [{ field: "listen", from: "127.0.0.1", to: null }],
    });
  });

  it("scales and says what else changes in place", () => {
    const [change] = diff([desired({ port: "8081", listen: "127.0.0.1" }, 3)], [observed]);
    expect(change).toMatchObject({
      type: "scale",
      reason: "2 → 3 replicas, port 8080 → 8081",
      changes: [{ field: "port", from: "8080", to: "8081" }],
    });
  });

  it("does not compare settings it does not know", () => {
    const [change] = diff(
      [desired({ port: "9999", listen: "127.0.0.1" })],
      [{ ...observed, settings: undefined }],
    );
    expect(change?.type).toBe("unchanged");
    expect(change?.changes).toBeUndefined();
  });
});
