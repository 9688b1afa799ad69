/**
 * What the container benchmarks ask the Docker engine, over its API (the socket the `docker`
 * CLI talks to, without the CLI's own start-up in the timings): which containers run, since
 * when, and the two ways a bench takes one down.
 */
import { DockerEngine } from "../../src/runtime/docker/engine.js";

const engine = new DockerEngine();

export interface RunningContainer {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Host ports published on IPv4 (127.0.0.1 or all interfaces), by container port. */
  readonly ports: ReadonlyMap<number, number>;
}

interface ListedContainer {
  Id: string;
  Labels: Record<string, string> | null;
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] | null;
}

/** Running containers carrying every one of `labels` ("key" or "key=value"). */
export async function runningContainers(labels: readonly string[]): Promise<RunningContainer[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: labels, status: ["running"] }));
  const list = await engine.call<ListedContainer[]>("GET", `/containers/json?filters=${filters}`);
  return list.map((c) => {
    const ports = new Map<number, number>();
    for (const p of c.Ports ?? []) {
      // IPv4 only: Swarm's host-mode publishing may give IPv6 another host port.
      const v4 = p.IP === undefined || !p.IP.includes(":");
      if (p.Type === "tcp" && v4 && p.PublicPort !== undefined) {
        ports.set(p.PrivatePort, p.PublicPort);
      }
    }
    return { id: c.Id, labels: c.Labels ?? {}, ports };
  });
}

export interface ContainerState {
  readonly running: boolean;
  readonly pid: number;
  /** Wall-clock ms. */
  readonly startedAt: number;
  readonly restartCount: number;
}

export async function containerState(id: string): Promise<ContainerState> {
  const info = await engine.call<{
    State: { Running: boolean; Pid: number; StartedAt: string };
    RestartCount: number;
  }>("GET", `/containers/${id}/json`);
  return {
    running: info.State.Running,
    pid: info.State.Pid,
    startedAt: Date.parse(info.State.StartedAt),
    restartCount: info.RestartCount,
  };
}

/** What `docker kill` does (POST /containers/ID/kill, SIGKILL): to Docker, a manual stop. */
export async function dockerKill(id: string): Promise<void> {
  await engine.call("POST", `/containers/${id}/kill`);
}

/**
 * A crash: SIGKILL from the host to the container's main process (`docker inspect -f
 * {{.State.Pid}}`). The container exits by itself, which Docker's restart policies handle.
 */
export async function crashContainer(id: string): Promise<void> {
  const { pid, running } = await containerState(id);
  if (!running || !(pid > 0)) throw new Error(`container ${id.slice(0, 12)} is not running`);
  process.kill(pid, "SIGKILL");
}

/** A Swarm service's update status (`State`: updating, completed, paused…, and why). */
export async function serviceUpdateStatus(
  name: string,
): Promise<{ readonly state?: string; readonly message?: string }> {
  const info = await engine.call<{ UpdateStatus?: { State?: string; Message?: string } }>(
    "GET",
    `/services/${encodeURIComponent(name)}`,
  );
  return { state: info.UpdateStatus?.State, message: info.UpdateStatus?.Message };
}

/** Why a Swarm task ended (`Status.Err`, else its state and message), for a report. */
export async function taskError(id: string): Promise<string> {
  const task = await engine.call<{ Status?: { State?: string; Message?: string; Err?: string } }>(
    "GET",
    `/tasks/${encodeURIComponent(id)}`,
  );
  const st = task.Status ?? {};
  return st.Err ?? `${st.State ?? "?"}: ${st.Message ?? ""}`;
}
