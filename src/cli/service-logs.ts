import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { DockerEngine } from "../runtime/docker/index.js";
import { SwarmClient } from "../runtime/swarm/index.js";

export interface ServiceLogOptions {
  readonly follow: boolean;
  readonly since?: number;
  readonly tail?: number;
}

/**
 * `baton logs APP` of a swarm app: the service's own logs (every task, from the engine),
 * interleaved as the engine collects them. false when the app has no service of this state
 * directory, so the caller reads replica logs instead.
 */
export async function printServiceLogs(
  stateDir: string,
  app: string,
  options: ServiceLogOptions,
): Promise<boolean> {
  const engine = new DockerEngine();
  if (!existsSync(engine.socketPath)) return false;
  const client = new SwarmClient(engine);
  let services: Awaited<ReturnType<SwarmClient["services"]>>;
  try {
    services = await client.services([`baton.state=${resolve(stateDir)}`, `baton.app=${app}`]);
  } catch {
    // No engine, or not a swarm manager: no service to read.
    return false;
  }
  const service = services[0];
  if (service === undefined) return false;
  const abort = new AbortController();
  process.once("SIGINT", () => abort.abort());
  for await (const line of client.logs(service.ID, {
    follow: options.follow,
    signal: abort.signal,
    ...(options.since === undefined ? {} : { since: options.since }),
    ...(options.tail === undefined ? {} : { tail: options.tail }),
  })) {
    process.stdout.write(`${line.line}\n`);
  }
  return true;
}
