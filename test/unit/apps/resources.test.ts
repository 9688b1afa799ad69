import { describe, expect, it } from "vitest";
import { desiredApps, observedApps } from "../../../src/apps/index.js";
import { appRevision, parseDefinition } from "../../../src/definition/index.js";
import { buildPlan, diff, planJson } from "../../../src/engine/index.js";

const definition = parseDefinition(
  `apps:
  web:
    command: node web.js
    dependsOn: [api, cache]
  api:
    command: node api.js
    dependsOn: [db]
  cache: { command: node cache.js }
  db: { command: node db.js }
`,
  "/srv/shop/baton.yaml",
);

const order = (plan: ReturnType<typeof planJson>) =>
  Object.fromEntries(plan.steps.map((s) => [s.id, [s.type, ...s.after]]));

describe("a plan of a definition with dependsOn", () => {
  it("creates each app after the apps it depends on", () => {
    const plan = planJson(
      buildPlan(
        diff(
          desiredApps(definition, () => undefined),
          [],
        ),
      ),
    );
    expect(order(plan)).toEqual({
      "app/web": ["create", "app/api", "app/cache"],
      "app/api": ["create", "app/db"],
      "app/cache": ["create"],
      "app/db": ["create"],
    });
  });

  it("deletes each app before the apps it depended on", () => {
    const running = ["web", "api", "cache", "db"].map((app) => ({
      app,
      revision: appRevision(definition.apps[app]!),
    }));
    const observed = observedApps(running, (app) => definition.apps[app]);
    const plan = planJson(buildPlan(diff([], observed)));
    expect(order(plan)).toEqual({
      "app/web": ["delete"],
      "app/api": ["delete", "app/web"],
      "app/cache": ["delete", "app/web"],
      "app/db": ["delete", "app/api"],
    });
  });

  it("changes dependsOn in place: a reconfigure, no replica replaced", () => {
    const running = ["web", "api", "cache", "db"].map((app) => ({
      app,
      revision: appRevision(definition.apps[app]!),
    }));
    const changed = parseDefinition(
      definition.source.replace("dependsOn: [api, cache]", "dependsOn: [api]"),
      "/srv/shop/baton.yaml",
    );
    const plan = planJson(
      buildPlan(
        diff(
          desiredApps(changed, () => undefined),
          observedApps(running, (app) => definition.apps[app]),
        ),
      ),
    );
    const web = plan.steps.find((s) => s.id === "app/web");
    expect(web).toMatchObject({
      type: "reconfigure",
      reason: "dependsOn api, cache → api",
      changes: [{ field: "dependsOn", from: "api, cache", to: "api" }],
    });
    expect(plan.summary).toMatchObject({ reconfigure: 1, unchanged: 3, replace: 0 });
  });
});
