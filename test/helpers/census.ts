import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/**
 * The replica processes of one state directory, found the way an operator would: every
 * process whose environment names a Baton replica and whose working directory lies in the
 * state's snapshots. Independent of what Baton itself reports, so it sees orphans too.
 */
export function replicaProcesses(stateDir: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (!cwd.startsWith(`${stateDir}/`)) continue;
      const environ = readFileSync(`/proc/${entry}/environ`, "utf8");
      const id = /(?:^|\0)BATON_REPLICA=([^\0]+)/.exec(environ)?.[1];
      // A replica's shell and its children share the id: keep the group's first process.
      if (id !== undefined && !found.has(id)) found.set(id, Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** Samples the replica count every few ms until stopped: the most that ever ran at once. */
export class ReplicaCensus {
  private maxSeen = 0;
  private timer: NodeJS.Timeout;

  constructor(private readonly stateDir: string) {
    this.timer = setInterval(() => this.sample(), 20);
    this.sample();
  }

  get max(): number {
    return this.maxSeen;
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.maxSeen;
  }

  private sample(): void {
    this.maxSeen = Math.max(this.maxSeen, replicaProcesses(this.stateDir).size);
  }
}
