import { existsSync } from "node:fs";
import { DockerDriver, DockerEngine } from "../runtime/docker/index.js";
import type { Handle, ReplicaDescription } from "../runtime/driver.js";

/** Container replicas of this state, when a Docker engine answers; none otherwise. */
export async function runningContainers(
  dir: string,
): Promise<{ handle: Handle; described: ReplicaDescription }[]> {
  const engine = new DockerEngine();
  if (!existsSync(engine.socketPath)) return [];
  const containers = new DockerDriver({ stateDir: dir, engine });
  try {
    return (await containers.recover()).map((handle) => ({
      handle,
      described: containers.describe(handle),
    }));
  } catch {
    return [];
  } finally {
    await containers.close();
  }
}
