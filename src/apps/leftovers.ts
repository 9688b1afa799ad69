import { existsSync } from "node:fs";
import { DockerDriver, DockerEngine } from "../runtime/docker/index.js";
import { ProcessDriver } from "../runtime/process/index.js";
import { ProxyClient } from "./proxy/index.js";
import { removeServices } from "./swarm-resources.js";

/** As long as a replica's stop may take when its app's `stopGrace` is not known. */
const STOP_GRACE_MS = 10_000;

/**
 * Stops what a controller that died (SIGKILL, a crash) left running for its state directory,
 * as its own `baton down` would have: process replicas, container replicas (only those
 * labelled with this state directory; their exited containers are kept for `baton logs
 * --all`, as after any `baton down`), the proxy, and the Swarm services. Returns how many
 * things it stopped.
 */
export async function stopLeftovers(stateDir: string): Promise<number> {
  const [processes, containers] = await Promise.all([
    stopProcesses(stateDir),
    stopContainers(stateDir),
  ]);
  const proxy = await ProxyClient.connect(stateDir);
  if (proxy !== undefined) await proxy.stop(15_000);
  const services = await removeServices(stateDir);
  return processes + containers + (proxy !== undefined ? 1 : 0) + services;
}

async function stopProcesses(stateDir: string): Promise<number> {
  const runtime = new ProcessDriver({ stateDir });
  try {
    const handles = await runtime.recover();
    await Promise.all(handles.map((h) => runtime.stop(h, STOP_GRACE_MS)));
    return handles.length;
  } finally {
    await runtime.close();
  }
}

/** None when no engine answers: then no container of ours can be running either. */
async function stopContainers(stateDir: string): Promise<number> {
  if (!existsSync(new DockerEngine().socketPath)) return 0;
  const runtime = new DockerDriver({ stateDir });
  try {
    const handles = await runtime.recover().catch(() => []);
    await Promise.all(handles.map((h) => runtime.stop(h, STOP_GRACE_MS)));
    return handles.length;
  } finally {
    await runtime.close();
  }
}
