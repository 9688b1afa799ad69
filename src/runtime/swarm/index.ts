export {
  buildServiceSpec,
  dockerSecretName,
  SERVICE_LABEL,
  type ServiceIdentity,
  type ServiceSpec,
  STATE_LABEL,
  serviceName,
  specDrift,
} from "./service-spec.js";
export {
  type EngineEvent,
  type Service,
  SwarmClient,
  type SwarmNode,
  type Task,
} from "./swarm-client.js";
export { SwarmDriver, type SwarmDriverOptions } from "./swarm-driver.js";
