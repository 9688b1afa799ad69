/**
 * Child processes a benchmark starts (backends, peers). Each is stopped by its own pid:
 * SIGTERM, then SIGKILL after a grace period; never by name.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";

export interface Started {
  readonly pid: number;
  readonly name: string;
  /** Resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  readonly exited: boolean;
}

export interface StartOptions {
  /** Output of the process, appended; discarded when absent. */
  readonly logFile?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  opts: StartOptions = {},
): Started {
  const fd = opts.logFile === undefined ? "ignore" : openSync(opts.logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      stdio: ["ignore", fd, fd],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
  } finally {
    if (typeof fd === "number") closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`${name}: cannot start ${command}`);
  let exited = false;
  const gone = new Promise<void>((res) => {
    child.once("exit", () => {
      exited = true;
      res();
    });
    child.once("error", () => {
      exited = true;
      res();
    });
  });
  const pid = child.pid;
  return {
    pid,
    name,
    get exited() {
      return exited;
    },
    async stop(graceMs = 5_000) {
      if (exited) return;
      process.kill(pid, "SIGTERM");
      const timer = setTimeout(() => {
        if (!exited) process.kill(pid, "SIGKILL");
      }, graceMs);
      await gone;
      clearTimeout(timer);
    },
  };
}
