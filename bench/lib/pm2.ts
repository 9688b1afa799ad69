/**
 * A PM2 of the benchmark's own: its CLI from bench/.peers, its daemon under a PM2_HOME in a
 * temporary folder, so it never touches (or is touched by) any other PM2 on the machine.
 * `kill()` stops that daemon and its apps, and only those.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { alive, waitGone } from "./procfs.js";

export interface Pm2Process {
  readonly name: string;
  readonly pid: number;
  readonly pm_id: number;
  readonly pm2_env: {
    readonly status: string;
    readonly pm_uptime: number;
    readonly restart_time: number;
    readonly PORT?: string | number;
    readonly env?: { readonly PORT?: string | number };
  };
}

export class Pm2 {
  constructor(
    /** PM2's CLI script (bench/peers.ts ensurePm2()). */
    readonly bin: string,
    /** PM2_HOME: the daemon's folder, socket and pid file. */
    readonly home: string,
  ) {}

  /** Runs one PM2 command; `env` is added to its environment (what `--update-env` takes). */
  run(args: readonly string[], timeoutMs = 60_000, env: NodeJS.ProcessEnv = {}): Promise<string> {
    return new Promise((res, rej) => {
      execFile(
        process.execPath,
        [this.bin, ...args],
        {
          timeout: timeoutMs,
          killSignal: "SIGKILL",
          env: { ...process.env, ...env, PM2_HOME: this.home, NO_COLOR: "1" },
          maxBuffer: 64 * 1024 * 1024,
        },
        (err, stdout, stderr) => {
          if (err !== null) {
            rej(new Error(`pm2 ${args.join(" ")} failed: ${err.message}\n${stdout}${stderr}`));
            return;
          }
          res(stdout);
        },
      );
    });
  }

  async jlist(): Promise<Pm2Process[]> {
    const out = await this.run(["jlist"]);
    // Only the JSON line matters; a daemon being spawned may print before it.
    const line = out.split("\n").find((l) => l.startsWith("["));
    if (line === undefined) throw new Error(`pm2 jlist: no JSON in its output:\n${out}`);
    return JSON.parse(line) as Pm2Process[];
  }

  /** The daemon ("God") pid from PM2_HOME/pm2.pid, if it runs. */
  daemonPid(): number | undefined {
    try {
      const pid = Number(readFileSync(join(this.home, "pm2.pid"), "utf8").trim());
      return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * `pm2 kill` under this PM2_HOME: stops this daemon and its apps. If the daemon is still
   * there afterwards, it and the given app pids (all started by this benchmark) get SIGKILL.
   */
  async kill(
    appPids: readonly number[] = [],
    log: (line: string) => void = () => {},
  ): Promise<void> {
    const daemon = this.daemonPid();
    try {
      await this.run(["kill"], 60_000);
    } catch (error) {
      log(`pm2 kill failed: ${(error as Error).message}`);
    }
    const left = await waitGone([...(daemon === undefined ? [] : [daemon]), ...appPids], 10_000);
    for (const pid of left) {
      log(`pm2: pid ${pid} survived pm2 kill; SIGKILL`);
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
  }
}
