import { docker, ensureDocker } from "./docker.js";

/**
 * The one swarm of this machine's one engine, shared by whoever needs it at the same time
 * (these tests, the Swarm benchmark). The protocol, the same in bench/swarm-peer.ts:
 * - join: `docker swarm init --advertise-addr 127.0.0.1` only when the engine is not an
 *   active swarm node; remember whether this process initialised it;
 * - leave: `docker swarm leave --force` only if this process initialised it AND no service
 *   is left on it (anyone's: another's services mean someone still uses the swarm);
 * - between the two, each user removes only its own services, found by its labels.
 */

let initialisedHere = false;

export async function ensureSwarm(): Promise<void> {
  await ensureDocker();
  if ((await localNodeState()) === "active") return;
  try {
    await docker(["swarm", "init", "--advertise-addr", "127.0.0.1"]);
    initialisedHere = true;
  } catch (error) {
    // Another process initialised it between our look and our init: it is theirs to leave.
    if ((await localNodeState()) !== "active") throw error;
  }
}

export async function releaseSwarm(): Promise<void> {
  if (!initialisedHere) return;
  if ((await localNodeState()) !== "active") return;
  const left = (await docker(["service", "ls", "-q"])).trim();
  if (left !== "") return;
  await docker(["swarm", "leave", "--force"]);
  initialisedHere = false;
}

/** Removes the services carrying `filterLabel` ("key" or "key=value"): only a test's own. */
export async function removeTestServices(filterLabel: string): Promise<void> {
  if (filterLabel === "") throw new Error("removeTestServices needs a label to filter by");
  if ((await localNodeState()) !== "active") return;
  const ids = (await docker(["service", "ls", "-q", "--filter", `label=${filterLabel}`]))
    .split("\n")
    .filter(Boolean);
  for (const id of ids) {
    try {
      await docker(["service", "rm", id]);
    } catch (error) {
      if (!/not found/i.test(String(error))) throw error;
    }
  }
}

async function localNodeState(): Promise<string> {
  return (await docker(["info", "--format", "{{.Swarm.LocalNodeState}}"])).trim();
}
