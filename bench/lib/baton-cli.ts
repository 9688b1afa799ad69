/**
 * Baton driven the way a user drives it: through its CLI (`node dist/bin/baton.js`, what `baton` runs), one
 * project folder and state directory per benchmark. Needs `npx tsc -p tsconfig.json`.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ControllerStatus } from "../../src/controller/index.js";
import type { EventRecord } from "../../src/store/index.js";
import { alive } from "./procfs.js";

/** The built CLI; `BATON_BENCH_CLI` points the benchmarks at another build of Baton. */
export const BATON_CLI =
  process.env.BATON_BENCH_CLI ?? resolve(import.meta.dirname, "../../dist/bin/baton.js");

export type { ControllerStatus, EventRecord };

export class BatonProject {
  readonly file: string;
  readonly stateDir: string;

  constructor(readonly dir: string) {
    this.file = join(dir, "baton.yaml");
    this.stateDir = join(dir, ".baton");
  }

  /** Runs one CLI command against this project; rejects with its output on a non-zero exit. */
  cli(args: readonly string[], timeoutMs = 60_000): Promise<string> {
    if (!existsSync(BATON_CLI)) {
      return Promise.reject(new Error(`${BATON_CLI} is missing: run npx tsc -p tsconfig.json`));
    }
    const argv = [BATON_CLI, ...args, "-f", this.file, "--state", this.stateDir];
    return new Promise((res, rej) => {
      execFile(
        process.execPath,
        argv,
        {
          cwd: this.dir,
          timeout: timeoutMs,
          killSignal: "SIGKILL",
          env: { ...process.env, NO_COLOR: "1" },
          maxBuffer: 16 * 1024 * 1024,
        },
        (err, stdout, stderr) => {
          if (err !== null) {
            rej(new Error(`baton ${args.join(" ")} failed: ${err.message}\n${stdout}${stderr}`));
            return;
          }
          res(stdout);
        },
      );
    });
  }

  async up(waitTimeoutS = 60): Promise<ControllerStatus> {
    await this.cli(["up", "--detach"]);
    await this.cli(["wait", "--timeout", `${waitTimeoutS}s`], (waitTimeoutS + 30) * 1_000);
    return this.status();
  }

  async status(): Promise<ControllerStatus> {
    return JSON.parse(await this.cli(["status", "--json"])) as ControllerStatus;
  }

  /** The controller's event log (GET /api/v1/events), oldest first. */
  async events(app?: string, limit = 1_000): Promise<EventRecord[]> {
    const status = await this.status();
    const token = readFileSync(join(this.stateDir, "api-token"), "utf8").trim();
    const query = new URLSearchParams({ limit: String(limit), ...(app ? { app } : {}) });
    const response = await fetch(`${status.controller.api}/api/v1/events?${query}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`GET /api/v1/events: HTTP ${response.status}`);
    return ((await response.json()) as { events: EventRecord[] }).events;
  }

  /**
   * `baton down`; if it fails, the processes of the last known status are killed by pid
   * (they are this benchmark's own), so nothing is left running.
   */
  async down(last?: ControllerStatus, log: (line: string) => void = () => {}): Promise<void> {
    try {
      await this.cli(["down"], 150_000);
      return;
    } catch (error) {
      log(`baton down failed: ${(error as Error).message}`);
    }
    if (last === undefined) return;
    const pids = [
      last.controller.pid,
      last.controller.proxyPid,
      ...last.apps.flatMap((a) => a.replicas.map((r) => r.pid)),
    ].filter((p): p is number => typeof p === "number" && p > 0 && alive(p));
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}
