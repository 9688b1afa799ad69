import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseDefinition } from "../../../src/definition/index.js";
import { DockerDriver } from "../../../src/runtime/docker/index.js";
import { inheritedEnv } from "../../../src/runtime/replica-env.js";

const CONTROLLER = {
  PATH: "/usr/bin:/bin",
  HOME: "/root",
  LANG: "C.UTF-8",
  TZ: "UTC",
  SSH_AUTH_SOCK: "/tmp/agent.sock",
  DEPLOY_TOKEN: "t0ken",
};

describe("inheritedEnv", () => {
  it("passes PATH, HOME, LANG and TZ only", () => {
    expect(inheritedEnv(CONTROLLER, undefined)).toEqual({
      PATH: "/usr/bin:/bin",
      HOME: "/root",
      LANG: "C.UTF-8",
      TZ: "UTC",
    });
  });

  it("adds the names listed, and everything with true", () => {
    expect(inheritedEnv(CONTROLLER, ["DEPLOY_TOKEN", "ABSENT"])).toHaveProperty(
      "DEPLOY_TOKEN",
      "t0ken",
    );
    expect(inheritedEnv(CONTROLLER, ["DEPLOY_TOKEN"])).not.toHaveProperty("SSH_AUTH_SOCK");
    expect(inheritedEnv(CONTROLLER, true)).toEqual(CONTROLLER);
  });
});

describe("a container replica's environment", () => {
  const state = mkdtempSync(join(tmpdir(), "baton-env-"));
  afterAll(() => rmSync(state, { recursive: true, force: true }));

  it("holds its app's env and PORT, none of the controller's", async () => {
    process.env.BATON_TEST_CONTROLLER_TOKEN = "t0ken";
    const definition = parseDefinition(
      `apps:
  api:
    runtime: docker
    image: shop/api:1
    env: { GREETING: hi }
`,
      join(state, "baton.yaml"),
    );
    const app = definition.apps.api;
    if (app === undefined) throw new Error("no app api");
    const driver = new DockerDriver({ stateDir: state });
    // The docker driver is not handed the controller's environment (HostContext) at all.
    const spec = await driver.specFor(app, {
      id: "api-1",
      app: "api",
      revision: "r1",
      port: 30_000,
    });
    expect(spec.env).toEqual({ GREETING: "hi", PORT: "8080" });
    delete process.env.BATON_TEST_CONTROLLER_TOKEN;
    await driver.close?.();
  });
});
