import { describe, expect, it } from "vitest";
import { structuralDiff } from "../../../src/util/structural-diff.js";

const paths = (from: unknown, to: unknown) =>
  structuralDiff(from, to).map((c) => [c.path, c.from, c.to]);

describe("structuralDiff", () => {
  it("finds nothing in equal values, whatever their key order", () => {
    expect(structuralDiff({ a: 1, b: { c: [1, "x"] } }, { b: { c: [1, "x"] }, a: 1 })).toEqual([]);
  });

  it("names a changed key by its path", () => {
    expect(
      paths({ env: { GREETING: "hi", A: "1" } }, { env: { GREETING: "hello", A: "1" } }),
    ).toEqual([["env.GREETING", "hi", "hello"]]);
  });

  it("compares arrays of one length element by element", () => {
    expect(
      paths({ command: ["node", "a.js", "8080"] }, { command: ["node", "a.js", "8081"] }),
    ).toEqual([["command[2]", "8080", "8081"]]);
    expect(paths({ list: [{ x: 1 }] }, { list: [{ x: 2 }] })).toEqual([["list[0].x", 1, 2]]);
  });

  it("takes an array whose length changed as a whole, not as shifted elements", () => {
    expect(paths({ command: ["a", "b"] }, { command: ["x", "a", "b"] })).toEqual([
      ["command", ["a", "b"], ["x", "a", "b"]],
    ]);
  });

  it("names each key of an object that appears or goes", () => {
    expect(paths({}, { env: { A: "1", B: "2" } })).toEqual([
      ["env.A", undefined, "1"],
      ["env.B", undefined, "2"],
    ]);
    expect(paths({ health: { readiness: { http: "/r" } } }, { health: {} })).toEqual([
      ["health.readiness.http", "/r", undefined],
    ]);
  });

  it("takes a change of type as a whole", () => {
    expect(paths({ command: ["a"] }, { command: "a" })).toEqual([["command", ["a"], "a"]]);
    expect(paths({ x: { y: 1 } }, { x: 3 })).toEqual([["x", { y: 1 }, 3]]);
    expect(paths({ x: null }, { x: 0 })).toEqual([["x", null, 0]]);
  });

  it("lists the keys of the new value in its order, then those only the old one has", () => {
    expect(paths({ b: 1, gone: 1 }, { c: 1, b: 2 }).map(([path]) => path)).toEqual([
      "c",
      "b",
      "gone",
    ]);
  });

  it("quotes a key that a dot would make ambiguous, and gives the path as parts", () => {
    const [change] = structuralDiff(
      { labels: { "app.kind": "a" } },
      { labels: { "app.kind": "b" } },
    );
    expect(change?.path).toBe('labels["app.kind"]');
    expect(change?.at).toEqual(["labels", "app.kind"]);
  });
});
