import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { resolve } from "node:path";

export interface StateUser {
  readonly pid: number;
  /** What it is, for the message: a replica (by id) or the proxy. */
  readonly what: string;
}

/**
 * Processes still running from a state directory: replicas (their working directory is a
 * snapshot inside it, even once deleted) and the proxy (started with `--state DIR`).
 * Found from /proc alone, so they are found when the state that recorded them is gone.
 */
export function processesUsingState(stateDir: string): StateUser[] {
  const root = resolve(stateDir);
  const users: StateUser[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      const stateArg = argv.indexOf("--state");
      const isProxy = argv.some((arg) => arg.endsWith("/proxy/main.js"));
      if (isProxy && stateArg !== -1 && resolve(argv[stateArg + 1] ?? "") === root) {
        users.push({ pid, what: "the proxy" });
        continue;
      }
      const cwd = readlinkSync(`/proc/${pid}/cwd`).replace(/ \(deleted\)$/, "");
      if (!cwd.startsWith(`${root}/`)) continue;
      const environ = readFileSync(`/proc/${pid}/environ`, "utf8");
      const id = /(?:^|\0)BATON_REPLICA=([^\0]+)/.exec(environ)?.[1];
      if (id !== undefined) users.push({ pid, what: `replica ${id}` });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return users;
}
