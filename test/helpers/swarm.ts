import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { docker, ensureDocker } from "./docker.js";
import { processAlive } from "./wait.js";

/**
 * The one swarm of this machine's one engine, shared by whoever needs it at the same time
 * (test files running in parallel, the Swarm benchmarks of bench/swarm-peer.ts). Each user
 * process registers itself in USERS while it needs the swarm:
 * - join: register, then `docker swarm init --advertise-addr 127.0.0.1` only when the engine
 *   is not an active swarm node; a swarm made so is marked (INITIALISED);
 * - leave: unregister; the last user out (no other live user registered) runs `docker swarm
 *   leave --force` only if the swarm is marked as made by one of us — never a swarm someone
 *   made by hand — and no service is left on it (anyone's: someone still uses it);
 * - between the two, each user removes only its own services, found by its labels.
 * Registering closes the race of the older rule (the process that initialised it left as
 * soon as no service existed, while another file's test was between two services).
 */
const USERS = join(tmpdir(), "baton-swarm-users");
const INITIALISED = join(USERS, "initialised");

export async function ensureSwarm(): Promise<void> {
  await ensureDocker();
  mkdirSync(USERS, { recursive: true });
  writeFileSync(join(USERS, String(process.pid)), "");
  if ((await localNodeState()) === "active") return;
  try {
    await docker(["swarm", "init", "--advertise-addr", "127.0.0.1"]);
    writeFileSync(INITIALISED, "");
  } catch (error) {
    // Another process initialised it between our look and our init: it is marked by them.
    if ((await localNodeState()) !== "active") throw error;
  }
}

/** Leaves the swarm when this is its last user and one of us made it; `log` says why not. */
export async function releaseSwarm(log: (line: string) => void = () => {}): Promise<void> {
  rmSync(join(USERS, String(process.pid)), { force: true });
  if (otherLiveUsers().length > 0) return;
  if (!existsSync(INITIALISED)) return;
  if ((await localNodeState()) !== "active") return;
  const left = (await docker(["service", "ls", "-q"])).trim();
  if (left !== "") {
    log(`swarm kept: services still run (${left.split("\n").length}), someone else uses it`);
    return;
  }
  await docker(["swarm", "leave", "--force"]);
  rmSync(INITIALISED, { force: true });
}

/** Registered users whose process still runs; a crashed user's entry is dropped. */
function otherLiveUsers(): number[] {
  if (!existsSync(USERS)) return [];
  const live: number[] = [];
  for (const entry of readdirSync(USERS)) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (processAlive(pid)) live.push(pid);
    else rmSync(join(USERS, entry), { force: true });
  }
  return live;
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
