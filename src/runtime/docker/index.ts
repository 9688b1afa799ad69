export { DockerRuntime, type DockerRuntimeOptions } from "./docker-runtime.js";
export { DockerEngine, DockerError } from "./engine.js";
