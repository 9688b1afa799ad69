import { dirname } from "node:path";
import { afterAll } from "vitest";
import { SwarmDriver } from "../../src/runtime/swarm/index.js";
import { TEST_APP } from "../helpers/cli.js";
import { docker, nodeBaseImage } from "../helpers/docker.js";
import { ensureSwarm, releaseSwarm, removeTestServices } from "../helpers/swarm.js";
import { runtimeConformance } from "./conformance.js";

// A real single-node swarm on the one engine, or a failure that says what to install.
await ensureSwarm();
const image = await nodeBaseImage();
afterAll(() => releaseSwarm());

/** Swarm runs the readiness check inside the task: busybox's wget asks the app's /healthz. */
const HEALTHZ =
  '["/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"]';

runtimeConformance("swarm", (stateDir) => new SwarmDriver({ stateDir }), {
  scheduler: {
    appYaml: (env, port) => [
      "runtime: swarm",
      `image: ${image}`,
      `command: [${JSON.stringify(process.execPath)}, "/app/${TEST_APP.split("/").at(-1)}"]`,
      `volumes: ["${dirname(TEST_APP)}:/app:ro"]`,
      "containerPort: 8080",
      `env: ${JSON.stringify({ HOST: "0.0.0.0", ...env })}`,
      `port: ${port}`,
      "stopGrace: 2s",
      `health: { readiness: { exec: ${HEALTHZ}, interval: 500ms, timeout: 2s } }`,
      "update: { healthyDeadline: 4s }",
    ],
    unready: { UNREADY_FILE: "/app/app.cjs" },
    kill: async (driver, handle) => {
      const container = driver.describe(handle).container;
      if (container === undefined) throw new Error(`task ${handle.id} has no container`);
      await docker(["kill", container]);
    },
    settleMs: 90_000,
  },
  cleanup: (stateDir) => removeTestServices(`baton.state=${stateDir}`),
});
