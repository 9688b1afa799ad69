import { dirname } from "node:path";
import { DockerRuntime } from "../../src/runtime/docker/index.js";
import { TEST_APP } from "../helpers/cli.js";
import { ensureDocker, nodeBaseImage, removeTestContainers } from "../helpers/docker.js";
import { runtimeConformance } from "./conformance.js";

// The real engine, or a failure that says what to install: never a skipped suite.
await ensureDocker();
const image = await nodeBaseImage();

runtimeConformance("docker", (stateDir) => new DockerRuntime({ stateDir, project: "test" }), {
  adapt: (spec, stateDir) => ({
    ...spec,
    // Inside its own network namespace the app must listen beyond loopback.
    env: { ...spec.env, HOST: "0.0.0.0" },
    container: {
      image,
      binds: [`${dirname(TEST_APP)}:${dirname(TEST_APP)}:ro`, `${stateDir}:${stateDir}`],
    },
  }),
  cleanup: (stateDir) => removeTestContainers(`baton.state=${stateDir}`),
});
