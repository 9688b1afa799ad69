import { describe, expect, it } from "vitest";
import {
  buildPlan,
  type Change,
  hasWork,
  type Plan,
  PlanError,
  planSummary,
  withFieldChanges,
} from "../../../src/engine/index.js";
import { change } from "./fixtures.js";

function edges(plan: Plan): Record<string, readonly string[]> {
  return Object.fromEntries(plan.steps.map((s) => [s.id, s.after]));
}

function planError(changes: readonly Change[]): PlanError {
  try {
    buildPlan(changes);
  } catch (err) {
    if (err instanceof PlanError) return err;
    throw err;
  }
  throw new Error("expected a PlanError, nothing was thrown");
}

describe("buildPlan", () => {
  it("keeps one step per change, in order, with the change's key as id", () => {
    const plan = buildPlan([change("create", "web"), change("delete", "old")]);
    expect(plan.steps.map((s) => [s.id, s.change.type])).toEqual([
      ["app/web", "create"],
      ["app/old", "delete"],
    ]);
  });

  it("runs creates, replaces and scales after those of what they depend on", () => {
    const plan = buildPlan([
      change("create", "web", ["api", "cache"]),
      change("replace", "api", ["db"]),
      change("scale", "cache"),
      change("create", "db"),
    ]);
    expect(edges(plan)).toEqual({
      "app/web": ["app/api", "app/cache"],
      "app/api": ["app/db"],
      "app/cache": [],
      "app/db": [],
    });
  });

  it("does not wait on an unchanged dependency, and gives unchanged steps nothing to wait on", () => {
    const plan = buildPlan([
      change("create", "web", ["db", "api"]),
      change("unchanged", "db"),
      change("unchanged", "api", ["db"]),
    ]);
    expect(edges(plan)).toEqual({ "app/web": [], "app/db": [], "app/api": [] });
  });

  it("deletes dependents before what they depended on", () => {
    const plan = buildPlan([
      change("delete", "db"),
      change("delete", "api", ["db"]),
      change("delete", "web", ["api", "db"]),
    ]);
    expect(edges(plan)).toEqual({
      "app/db": ["app/api", "app/web"],
      "app/api": ["app/web"],
      "app/web": [],
    });
  });

  it("does not order a delete against a dependency that stays or is already gone", () => {
    const plan = buildPlan([change("unchanged", "db"), change("delete", "old", ["db", "gone"])]);
    expect(edges(plan)).toEqual({ "app/db": [], "app/old": [] });
  });

  it("names a dependency cycle in dependency order", () => {
    const err = planError([
      change("create", "web", ["api"]),
      change("create", "api", ["db"]),
      change("create", "db", ["web"]),
    ]);
    expect(err.code).toBe("engine.cycle");
    expect(err.message).toBe("dependency cycle: app/web → app/api → app/db → app/web");
  });

  it("finds a cycle through unchanged resources too", () => {
    const err = planError([change("unchanged", "a", ["b"]), change("unchanged", "b", ["a"])]);
    expect(err.message).toBe("dependency cycle: app/a → app/b → app/a");
  });

  it("reports a resource that depends on itself", () => {
    expect(planError([change("create", "a", ["a"])]).message).toBe(
      "dependency cycle: app/a → app/a",
    );
  });

  it("rejects a dependency on a resource that is not defined", () => {
    const err = planError([change("create", "web", ["db"])]);
    expect(err.code).toBe("engine.missing_dependency");
    expect(err.message).toBe("app/web depends on app/db, which is not defined");
    expect(err.hint).toBe("define app/db, or remove it from the dependencies of app/web");
  });

  it("counts a dependency on a deleted resource as missing, and reports them all", () => {
    const err = planError([
      change("create", "web", ["db", "cache"]),
      change("scale", "api", ["db"]),
      change("delete", "db"),
    ]);
    expect(err.message).toBe(
      [
        "app/web depends on app/db, which is not defined",
        "app/web depends on app/cache, which is not defined",
        "app/api depends on app/db, which is not defined",
      ].join("\n"),
    );
  });
});

describe("planSummary and hasWork", () => {
  it("count every change type and tell whether anything would change", () => {
    const plan = buildPlan([
      change("create", "a"),
      change("unchanged", "b"),
      change("unchanged", "c"),
      change("delete", "d"),
    ]);
    expect(planSummary(plan)).toEqual({
      create: 1,
      replace: 0,
      scale: 0,
      reconfigure: 0,
      delete: 1,
      unchanged: 2,
    });
    expect(hasWork(plan)).toBe(true);
    expect(hasWork(buildPlan([change("unchanged", "b")]))).toBe(false);
    expect(hasWork(buildPlan([]))).toBe(false);
  });
});

describe("withFieldChanges", () => {
  it("puts what changed inside each replaced resource before its settings, keeping the order", async () => {
    const replaced = {
      ...change("replace", "web", ["db"]),
      changes: [{ field: "port", from: "8080", to: "8081" }],
    };
    const plan = buildPlan([change("create", "db"), replaced, change("scale", "api")]);
    const asked: string[] = [];
    const explained = await withFieldChanges(plan, async (c) => {
      asked.push(c.key.name);
      return [{ field: "env.A", from: '"1"', to: '"2"' }];
    });
    expect(asked).toEqual(["web"]);
    expect(explained.steps.map((s) => [s.id, s.after, s.change.changes])).toEqual([
      ["app/db", [], undefined],
      [
        "app/web",
        ["app/db"],
        [
          { field: "env.A", from: '"1"', to: '"2"' },
          { field: "port", from: "8080", to: "8081" },
        ],
      ],
      ["app/api", [], undefined],
    ]);
  });

  it("leaves a replace as it was when nothing is known of its inside", async () => {
    const plan = buildPlan([change("replace", "web")]);
    expect(await withFieldChanges(plan, async () => [])).toEqual(plan);
  });
});
