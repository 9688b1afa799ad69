import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./cli.js";
import { get } from "./http.js";
import { eventually, processAlive } from "./wait.js";

const PROMETHEUS = "/usr/bin/prometheus";
const PROMTOOL = "/usr/bin/promtool";
const MISSING =
  "Prometheus is missing: apt-get install prometheus (provides prometheus and promtool)";

export interface PromtoolResult {
  readonly code: number;
  readonly output: string;
}

/** Runs `promtool ARGS`, feeding `stdin`; never throws on a non-zero exit (its output says why). */
export function promtool(args: readonly string[], stdin = ""): Promise<PromtoolResult> {
  if (!existsSync(PROMTOOL)) throw new Error(MISSING);
  return new Promise((resolve, reject) => {
    const child = execFile(PROMTOOL, [...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      if (error !== null && code === -1) reject(error);
      else resolve({ code, output: `${stdout}${stderr}` });
    });
    child.stdin?.end(stdin);
  });
}

export interface RunningPrometheus {
  readonly port: number;
  /** An instant query through the HTTP API; the `data.result` array. */
  query(expr: string): Promise<PromResult[]>;
  /** Ends the server this helper started and removes its configuration and storage. */
  stop(): Promise<void>;
}

export interface PromResult {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

/**
 * A real Prometheus on 127.0.0.1 with its own temporary configuration and storage,
 * scraping `targets` every second. Waits until it reports ready.
 */
export async function startPrometheus(
  targets: readonly string[],
  options: {
    port?: number;
    job?: string;
    /** A file holding a bearer token sent with every scrape (Baton's `.baton/api-token`). */
    credentialsFile?: string;
  } = {},
): Promise<RunningPrometheus> {
  if (!existsSync(PROMETHEUS)) throw new Error(MISSING);
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "baton-prometheus-"));
  const config = join(dir, "prometheus.yml");
  writeFileSync(
    config,
    [
      "global: { scrape_interval: 1s, evaluation_interval: 1s }",
      "scrape_configs:",
      `  - job_name: ${JSON.stringify(options.job ?? "baton")}`,
      ...(options.credentialsFile === undefined
        ? []
        : [`    authorization: { credentials_file: ${JSON.stringify(options.credentialsFile)} }`]),
      `    static_configs: [{ targets: ${JSON.stringify(targets)} }]`,
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  child.on("error", () => {});
  const stop = async (): Promise<void> => {
    if (child.pid !== undefined && processAlive(child.pid)) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      // It shuts down cleanly in well under a second; a wedged one is killed, not waited for.
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually(
      `Prometheus answers ready on 127.0.0.1:${port}`,
      async () => {
        if (child.exitCode !== null)
          throw new Error(`prometheus exited ${child.exitCode}: ${log.slice(-2000)}`);
        return (await get(port, "/-/ready", 2_000)).status;
      },
      (status) => status === 200,
      30_000,
    );
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\nprometheus said:\n${log.slice(-2000)}`);
  }
  return {
    port,
    stop,
    async query(expr: string): Promise<PromResult[]> {
      const answer = await get(port, `/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = JSON.parse(answer.body) as {
        status: string;
        data?: { result: PromResult[] };
        error?: string;
      };
      if (body.status !== "success" || body.data === undefined) {
        throw new Error(
          `Prometheus query ${expr} failed: ${answer.status} ${body.error ?? answer.body}`,
        );
      }
      return body.data.result;
    },
  };
}
