export {
  type ContainerSettings,
  DockerDriver,
  type DockerDriverOptions,
  type DockerState,
} from "./docker-driver.js";
export { DockerEngine, DockerError } from "./engine.js";
