/**
 * Docker Swarm as a peer of Baton in the container benchmarks, on the one dockerd of the
 * machine, which other engineers' tests use at the same time. Every user of that swarm
 * keeps the protocol of test/helpers/swarm.ts (`ensureSwarm`, `releaseSwarm`: registered
 * users, the last one out leaves a swarm one of them made) and removes only its own
 * services and networks, found by label (here `baton.bench=1` and `baton.bench.run=<id>`).
 *
 * This kernel has no IPVS: published ports of Swarm's routing mesh never listen and VIP
 * load balancing does not work. The benches use `--endpoint-mode dnsrr` (clients resolve the
 * tasks' own addresses) on an attachable overlay network, and host-mode publishing (each
 * task's port on the host) where the host must reach a task.
 */
import { randomBytes } from "node:crypto";
import { docker } from "../test/helpers/docker.js";
import { waitFor } from "./lib/wait.js";

// Joining and leaving the shared swarm: the protocol of test/helpers/swarm.ts, one copy.
export { ensureSwarm, releaseSwarm } from "../test/helpers/swarm.js";

/** The labels of one bench run: every service and network it creates carries both. */
export interface SwarmRun {
  readonly id: string;
  readonly labels: readonly string[];
}

export function newSwarmRun(bench: string): SwarmRun {
  const id = `${bench}-${process.pid}-${randomBytes(3).toString("hex")}`;
  return { id, labels: ["baton.bench=1", `baton.bench.run=${id}`] };
}

const labelArgs = (run: SwarmRun, flag: string) => run.labels.flatMap((l) => [flag, l]);

/** An attachable overlay network of this run (a load generator container can join it). */
export async function createOverlay(run: SwarmRun, name: string): Promise<void> {
  await docker([
    "network",
    "create",
    "--driver",
    "overlay",
    "--attachable",
    ...labelArgs(run, "--label"),
    name,
  ]);
}

/**
 * `docker service create --detach` with this run's labels on the service and on its
 * containers, the image as it is locally (`--no-resolve-image`: no registry), and the
 * caller's other flags.
 */
export async function createService(
  run: SwarmRun,
  name: string,
  image: string,
  flags: readonly string[],
  command: readonly string[] = [],
): Promise<void> {
  await docker([
    "service",
    "create",
    "--detach",
    "--no-resolve-image",
    "--name",
    name,
    ...labelArgs(run, "--label"),
    ...labelArgs(run, "--container-label"),
    ...flags,
    image,
    ...command,
  ]);
}

/**
 * Removes this run's services, waits (bounded) until their containers are gone, then its
 * networks. Only what carries this run's label is touched.
 */
export async function removeSwarmRun(
  run: SwarmRun,
  log: (line: string) => void = () => {},
): Promise<void> {
  const mine = `label=baton.bench.run=${run.id}`;
  const services = (await docker(["service", "ls", "-q", "--filter", mine]))
    .split("\n")
    .filter(Boolean);
  if (services.length > 0) await docker(["service", "rm", ...services]);
  try {
    await waitFor(
      async () => (await docker(["ps", "-aq", "--filter", mine])).trim() === "",
      `the containers of swarm run ${run.id} to be gone`,
      30_000,
      200,
    );
  } catch (error) {
    log(`warning: ${(error as Error).message}`);
  }
  const networks = (await docker(["network", "ls", "-q", "--filter", mine]))
    .split("\n")
    .filter(Boolean);
  for (const network of networks) {
    try {
      await docker(["network", "rm", network]);
    } catch (error) {
      log(`warning: network ${network} not removed: ${(error as Error).message}`);
    }
  }
}

/** "Docker 20.10.24 (swarm active)", for the results' machine line. */
export async function dockerVersion(): Promise<string> {
  const v = (await docker(["version", "--format", "{{.Server.Version}}"])).trim();
  return `Docker ${v}`;
}
