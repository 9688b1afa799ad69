import { describe, expect, it } from "vitest";
import { type Route, routes, type StreamRoute } from "../../../src/api/index.js";
import {
  includes,
  matchRoute,
  type RankedRole,
  ROUTE_ROLES,
  UNLISTED_ROLE,
} from "../../../src/security/tokens/index.js";

const RELEASE = {
  app: "web",
  version: "v1",
  kind: "image",
  ref: "registry/shop/web:v1",
  digest: `sha256:${"0".repeat(64)}`,
  commit: null,
  definitionRevision: "abc",
  createdAt: 0,
  createdBy: "ann",
  details: {},
} as const;

/**
 * One request of every builder of the route table. Typed by the table's keys: a builder
 * added to api/routes.ts does not type-check here until it has a sample, and then fails
 * below until security/tokens/route-roles.ts gives its route a role.
 */
const SAMPLES: Record<keyof typeof routes, () => Route<unknown> | StreamRoute<unknown>> = {
  status: () => routes.status({ stats: true }),
  plan: () => routes.plan({ file: "baton.yaml", source: "", folders: {}, files: {} }),
  apply: () => routes.apply({ file: "baton.yaml", source: "", folders: {}, files: {} }),
  applyHosts: () => routes.applyHosts(),
  drift: () => routes.drift(),
  facts: () => routes.facts(),
  parity: () => routes.parity({ left: "dev", right: "prod" }),
  shutdown: () => routes.shutdown({ workloads: false }),
  scale: () => routes.scale("web", { replicas: 2 }),
  history: () => routes.history("web"),
  rollout: () => routes.rollout("web"),
  retryRollout: () => routes.retryRollout("web"),
  rollback: () => routes.rollback("web"),
  releases: () => routes.releases("web"),
  recordRelease: () => routes.recordRelease("web", { release: RELEASE }),
  buildTarget: () => routes.buildTarget("web"),
  releaseHealth: () => routes.releaseHealth("web", { rollout: 3 }),
  deploy: () => routes.deploy("web", { release: "v1" }),
  importRelease: () => routes.importRelease({ release: RELEASE, from: { environment: "dev" } }),
  runs: () => routes.runs({ limit: 5 }),
  run: () => routes.run(12),
  triggerRun: () => routes.triggerRun("shop"),
  approveRun: () => routes.approveRun(12),
  cancelRun: () => routes.cancelRun(12),
  pushHook: () => routes.pushHook({ repo: "r", ref: "main", old: "a", new: "b" }),
  events: () => routes.events({ after: 3 }),
  eventStream: () => routes.eventStream({ app: "web" }),
  alerts: () => routes.alerts(),
  silences: () => routes.silences(),
  addSilence: () => routes.addSilence({ matchers: ["crash-loop"], for: "1h" }),
  removeSilence: () => routes.removeSilence("s1"),
  secrets: () => routes.secrets(),
  tokens: () => routes.tokens(),
  createToken: () => routes.createToken({ name: "ann", role: "viewer" }),
  revokeToken: () => routes.revokeToken("ann"),
  audit: () => routes.audit({ since: 1 }),
  metrics: () => routes.metrics(),
  metric: () => routes.metric({ name: "x" }),
  query: () => routes.query({ expr: "up" }),
  logs: () => routes.logs({ target: "web" }),
};

function roleOf(method: string, path: string): RankedRole | undefined {
  return matchRoute(method, new URL(path, "http://controller").pathname).rule?.role;
}

describe("the route table of roles", () => {
  it("gives every route of the API a role of its own", () => {
    const unlisted = Object.entries(SAMPLES)
      .map(([name, sample]) => [name, sample()] as const)
      .filter(([, route]) => roleOf(route.method, route.path) === undefined)
      .map(([name, route]) => `${name}: ${route.method} ${route.path}`);
    expect(unlisted).toEqual([]);
  });

  it("lets a viewer read and nothing else; apply, scale, approve and secrets need more", () => {
    const role = (name: keyof typeof SAMPLES): RankedRole | undefined => {
      const route = SAMPLES[name]();
      return roleOf(route.method, route.path);
    };
    expect(role("status")).toBe("viewer");
    expect(role("history")).toBe("viewer");
    expect(role("logs")).toBe("viewer");
    expect(role("apply")).toBe("deployer");
    expect(role("scale")).toBe("deployer");
    expect(role("rollback")).toBe("deployer");
    expect(role("retryRollout")).toBe("deployer");
    expect(role("deploy")).toBe("deployer");
    expect(role("approveRun")).toBe("approver");
    expect(role("createToken")).toBe("admin");
    expect(role("audit")).toBe("admin");
    expect(role("shutdown")).toBe("admin");
  });

  it("keeps everything under /api/v1/secrets for admin, whatever route is added there", () => {
    for (const [method, path] of [
      ["GET", "/api/v1/secrets"],
      ["GET", "/api/v1/secrets/db-password"],
      ["POST", "/api/v1/secrets/db-password/rotate"],
      ["DELETE", "/api/v1/secrets/x"],
    ] as const) {
      expect(roleOf(method, path), `${method} ${path}`).toBe("admin");
    }
    expect(matchRoute("GET", "/api/v1/secretsx").rule).toBeUndefined();
  });

  it("closes a path no row lists to all but admin", () => {
    expect(matchRoute("POST", "/api/v1/something-new").rule).toBeUndefined();
    expect(UNLISTED_ROLE).toBe("admin");
    expect(matchRoute("GET", "/api/v1/apps/web/history/extra").rule).toBeUndefined();
  });

  it("lets a promoter import releases and deploy and follow an app, nothing more", () => {
    const promoter = ROUTE_ROLES.filter((r) => r.promoter === true).map(
      (r) => `${r.method} ${r.path}`,
    );
    expect(promoter.sort()).toEqual([
      "GET /api/v1/apps/:app/release",
      "POST /api/v1/apps/:app/deploy",
      "POST /api/v1/releases",
    ]);
    expect(includes("promoter", "viewer")).toBe(false);
    expect(includes("approver", "deployer")).toBe(true);
    expect(includes("deployer", "approver")).toBe(false);
    expect(matchRoute("POST", "/api/v1/apps/web%20x/deploy")).toMatchObject({
      app: "web x",
      target: "web x",
    });
  });
});
