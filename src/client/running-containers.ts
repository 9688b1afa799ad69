import { existsSync } from "node:fs";
import { DockerEngine, DockerRuntime } from "../runtime/docker/index.js";
import type { ReplicaHandle } from "../runtime/runtime.js";

/** Container replicas of this state, when a Docker engine answers; none otherwise. */
export async function runningContainers(
  dir: string,
): Promise<{ handle: ReplicaHandle; runtime: string }[]> {
  const engine = new DockerEngine();
  if (!existsSync(engine.socketPath)) return [];
  const containers = new DockerRuntime({ stateDir: dir, engine });
  try {
    return (await containers.list()).map((handle) => ({ handle, runtime: "docker" }));
  } catch {
    return [];
  } finally {
    await containers.close();
  }
}
