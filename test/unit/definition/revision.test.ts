import { describe, expect, it } from "vitest";
import { type AppSpec, appRevision, parseDefinition } from "../../../src/definition/index.js";

function webApp(settings: string, command = '["node", "server.js"]'): AppSpec {
  const text = `apps:\n  web:\n    command: ${command}\n${settings}`;
  const app = parseDefinition(text, "/srv/shop/baton.yaml").apps.web;
  if (!app) throw new Error("no web app");
  return app;
}

describe("appRevision", () => {
  const base = appRevision(webApp("    env: { A: x }\n"));

  it("is 12 hex characters", () => {
    expect(base).toMatch(/^[0-9a-f]{12}$/);
  });

  it("does not change between versions of Baton, which would replace every replica on upgrade", () => {
    expect(base).toBe("f16fd4103853");
  });

  it("is the same for the same app", () => {
    expect(appRevision(webApp("    env: { A: x }\n"))).toBe(base);
  });

  it("does not change when replicas change: scaling keeps the replicas", () => {
    expect(appRevision(webApp("    env: { A: x }\n    replicas: 5\n"))).toBe(base);
  });

  it("does not change when the public port or protocol changes: only the proxy is reconfigured", () => {
    expect(appRevision(webApp("    env: { A: x }\n    port: 9090\n    protocol: tcp\n"))).toBe(
      base,
    );
  });

  it("changes when the env changes: replicas must be replaced", () => {
    expect(appRevision(webApp("    env: { A: y }\n"))).not.toBe(base);
  });

  it("changes when the command, health, restart, stop grace or logs change", () => {
    const variants = [
      webApp("    env: { A: x }\n", '["node", "other.js"]'),
      webApp("    env: { A: x }\n", "node server.js"),
      webApp("    env: { A: x }\n    health: { readiness: { http: / } }\n"),
      webApp("    env: { A: x }\n    restart: { backoff: 1s }\n"),
      webApp("    env: { A: x }\n    stopGrace: 20s\n"),
      webApp("    env: { A: x }\n    logs: { maxFiles: 2 }\n"),
    ];
    for (const app of variants) expect(appRevision(app)).not.toBe(base);
  });

  it("does not depend on the order keys are written in", () => {
    const ab = webApp("    env: { A: x, B: y }\n");
    const ba = webApp("    env: { B: y, A: x }\n");
    expect(appRevision(ab)).toBe(appRevision(ba));
  });

  it("does not depend on the app's name", () => {
    const text = 'apps:\n  api:\n    command: ["node", "server.js"]\n    env: { A: x }\n';
    const api = parseDefinition(text, "/srv/shop/baton.yaml").apps.api;
    expect(api && appRevision(api)).toBe(base);
  });
});
