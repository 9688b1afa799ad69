import { localDrivers } from "../runtime/registry.js";
import { ProxyClient } from "./proxy/index.js";
import { removeGroups } from "./scheduled-resources.js";

/** As long as a replica's stop may take when its app's `stopGrace` is not known. */
const STOP_GRACE_MS = 10_000;

/**
 * Stops what a controller that died (SIGKILL, a crash) left running for its state directory,
 * as its own `baton down` would have: the replicas of every driver (containers only those
 * labelled with this state directory; their exited containers are kept for `baton logs
 * --all`, as after any `baton down`), the proxy, and the groups of scheduler-backed drivers. Returns how many
 * things it stopped.
 */
export async function stopLeftovers(stateDir: string): Promise<number> {
  const replicas = await stopReplicas(stateDir);
  const proxy = await ProxyClient.connect(stateDir);
  if (proxy !== undefined) await proxy.stop(15_000);
  const groups = await removeScheduled(stateDir);
  return replicas + (proxy !== undefined ? 1 : 0) + groups;
}

/** A driver whose backend does not answer (no engine) has no replica of ours running. */
async function stopReplicas(stateDir: string): Promise<number> {
  const drivers = localDrivers({ stateDir });
  try {
    const handles = await drivers.recoverAll();
    await Promise.all(handles.map((h) => drivers.of(h).stop(h, STOP_GRACE_MS)));
    return handles.length;
  } finally {
    await drivers.close();
  }
}

async function removeScheduled(stateDir: string): Promise<number> {
  const drivers = localDrivers({ stateDir });
  try {
    return await removeGroups(drivers);
  } finally {
    await drivers.close();
  }
}
