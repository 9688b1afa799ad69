import { describe, expect, it } from "vitest";
import { desiredApps } from "../../../src/apps/index.js";
import {
  desiredScheduledApps,
  withoutScheduledApps,
} from "../../../src/apps/scheduled-resources.js";
import { parseDefinition } from "../../../src/definition/index.js";
import { buildPlan, diff, planJson } from "../../../src/engine/index.js";
import { localSchedulers } from "../../../src/runtime/registry.js";

const definition = parseDefinition(
  `apps:
  web: { command: node web.js }
  api: { runtime: docker, image: "shop/api:1", containerPort: 8080 }
  queue: { runtime: swarm, image: "shop/queue:1", containerPort: 8080, replicas: 2 }
`,
  "/srv/shop/baton.yaml",
);

describe("which reconciler plans an app", () => {
  // The scheduler-backed drivers alone: made without touching the disk or an engine.
  const drivers = localSchedulers("/srv/shop/.baton");

  it("hands an app to a scheduler when its driver declares that it owns rollout", () => {
    expect(drivers.ownsRollout("swarm")).toBe(true);
    expect(drivers.ownsRollout("process")).toBe(false);
    expect(Object.keys(withoutScheduledApps(definition, drivers).apps).sort()).toEqual([
      "api",
      "web",
    ]);
  });

  it("keeps the plan's kind of a swarm app as `baton plan --json` shows it", () => {
    const desired = [
      ...desiredApps(withoutScheduledApps(definition, drivers), () => undefined),
      ...drivers
        .schedulers()
        .flatMap((d) =>
          desiredScheduledApps(definition, d.name, (app) => (app === "queue" ? 3 : undefined)),
        ),
    ];
    const steps = planJson(buildPlan(diff(desired, []))).steps;
    expect(steps.map((s) => s.id).sort()).toEqual(["app/api", "app/web", "swarm-app/queue"]);
    expect(desired.find((r) => r.name === "queue")).toMatchObject({ kind: "swarm-app", size: 3 });
  });
});
