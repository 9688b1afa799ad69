import { dirname } from "node:path";
import { type ContainerSettings, DockerDriver } from "../../src/runtime/docker/index.js";
import { TEST_APP } from "../helpers/cli.js";
import { ensureDocker, nodeBaseImage, removeTestContainers } from "../helpers/docker.js";
import { runtimeConformance } from "./conformance.js";

// The real engine, or a failure that says what to install: never a skipped suite.
await ensureDocker();
const image = await nodeBaseImage();

runtimeConformance("docker", (stateDir) => new DockerDriver({ stateDir, project: "test" }), {
  adapt: (spec, stateDir) => ({
    ...spec,
    // Inside its own network namespace the app must listen beyond loopback.
    env: { ...spec.env, HOST: "0.0.0.0" },
    options: {
      image,
      binds: [`${dirname(TEST_APP)}:${dirname(TEST_APP)}:ro`, `${stateDir}:${stateDir}`],
    } satisfies ContainerSettings,
  }),
  appYaml: () => [
    "runtime: docker",
    `image: ${image}`,
    `command: [${JSON.stringify(process.execPath)}, "/app/${TEST_APP.split("/").at(-1)}"]`,
    `volumes: ["${dirname(TEST_APP)}:/app:ro"]`,
    "containerPort: 8080",
  ],
  appEnv: { HOST: "0.0.0.0" },
  cleanup: (stateDir) => removeTestContainers(`baton.state=${stateDir}`),
});
