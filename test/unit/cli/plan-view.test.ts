import { describe, expect, it } from "vitest";
import { renderPlan } from "../../../src/cli/plan-view.js";
import { buildPlan, type Plan, planJson } from "../../../src/engine/index.js";
import { change } from "../engine/fixtures.js";

/** The plan as the API answers it, rendered as the CLI prints it. */
function formatPlan(plan: Plan, options: { color: boolean }): string {
  return renderPlan(planJson(plan), options);
}

const mixed = buildPlan([
  change("create", "web", [], "new"),
  change("scale", "api", [], "3 → 5 replicas"),
  change("replace", "worker", [], "revision 1a2b → 3c4d"),
  change("delete", "old", [], "no longer defined"),
  change("unchanged", "db", [], "up to date"),
  change("unchanged", "cache", [], "up to date"),
]);

describe("renderPlan", () => {
  it("prints one aligned line per step and a summary", () => {
    expect(formatPlan(mixed, { color: false })).toBe(
      [
        "  + create     app/web     new",
        "  ~ scale      app/api     3 → 5 replicas",
        "  ± replace    app/worker  revision 1a2b → 3c4d",
        "  - delete     app/old     no longer defined",
        "    unchanged  app/db      up to date",
        "    unchanged  app/cache   up to date",
        "",
        "Plan: 1 to create, 1 to replace, 1 to scale, 1 to delete, 2 unchanged.",
      ].join("\n"),
    );
  });

  it("aligns to the widest entry present", () => {
    const plan = buildPlan([change("create", "a", [], "new"), change("delete", "bb", [], "gone")]);
    expect(formatPlan(plan, { color: false })).toBe(
      [
        "  + create  app/a   new",
        "  - delete  app/bb  gone",
        "",
        "Plan: 1 to create, 0 to replace, 0 to scale, 1 to delete, 0 unchanged.",
      ].join("\n"),
    );
  });

  it("says so when nothing would change", () => {
    const plan = buildPlan([change("unchanged", "db", [], "up to date")]);
    expect(formatPlan(plan, { color: false })).toBe(
      "    unchanged  app/db  up to date\n\nNo changes. Everything is up to date.",
    );
    expect(formatPlan(buildPlan([]), { color: false })).toBe(
      "No changes. Everything is up to date.",
    );
  });

  it("colours the action only when asked, keeping the columns aligned", () => {
    const plan = buildPlan([
      change("create", "web", [], "new"),
      change("replace", "api", [], "r"),
      change("delete", "old", [], "gone"),
      change("unchanged", "db", [], "up to date"),
    ]);
    const lines = formatPlan(plan, { color: true }).split("\n");
    expect(lines.slice(0, 4)).toEqual([
      "  \u001b[32m+ create\u001b[39m     app/web  new",
      "  \u001b[33m± replace\u001b[39m    app/api  r",
      "  \u001b[31m- delete\u001b[39m     app/old  gone",
      "    unchanged  app/db   up to date",
    ]);
    expect(formatPlan(plan, { color: false })).not.toContain("\u001b");
  });

  it("lists what changed inside a replaced resource below it, a masked value once", () => {
    const replaced = {
      ...change("replace", "web", [], "revision c673c5 → 4fe062"),
      changes: [
        { field: "env.GREETING", from: '"hi"', to: '"hello"' },
        { field: "env.EXTRA", from: null, to: '"1"' },
        { field: "env.API_TOKEN", from: "(secret, changed)", to: "(secret, changed)" },
        { field: "file config.txt", from: "modified", to: "modified" },
      ],
    };
    // A reconfigure's reason names its settings already: they are not repeated.
    const reconfigured = {
      ...change("reconfigure", "api", [], "port 8080 → 8081"),
      changes: [{ field: "port", from: "8080", to: "8081" }],
    };
    expect(formatPlan(buildPlan([replaced, reconfigured]), { color: false })).toBe(
      [
        "  ± replace      app/web  revision c673c5 → 4fe062",
        '      env.GREETING: "hi" → "hello"',
        '      env.EXTRA: (none) → "1"',
        "      env.API_TOKEN: (secret, changed)",
        "      file config.txt: modified",
        "  * reconfigure  app/api  port 8080 → 8081",
        "",
        "Plan: 0 to create, 1 to replace, 0 to scale, 1 to reconfigure, 0 to delete, 0 unchanged.",
      ].join("\n"),
    );
  });
});
