/** Runs `wrk` and parses its report. */
import { execFile } from "node:child_process";

export interface WrkOptions {
  readonly url: string;
  readonly threads?: number;
  readonly connections?: number;
  readonly durationS?: number;
  /** Killed if still running this long after its duration. */
  readonly graceMs?: number;
}

export interface WrkResult {
  readonly requestsPerSec: number;
  readonly requests: number;
  /** Latency percentiles in milliseconds. */
  readonly p50: number;
  readonly p75: number;
  readonly p90: number;
  readonly p99: number;
  /** Socket errors (connect, read, write, timeout) plus non-2xx/3xx responses. */
  readonly errors: number;
  readonly raw: string;
}

const UNIT_MS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1_000, m: 60_000 };

function duration(text: string): number {
  const m = /^([0-9.]+)(us|ms|s|m)$/.exec(text.trim());
  if (m === null) throw new Error(`wrk: cannot read duration ${JSON.stringify(text)}`);
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}

/** Parses the output of `wrk --latency`. */
export function parseWrk(raw: string): WrkResult {
  const percentile = (p: number): number => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, "m").exec(raw);
    if (m === null) throw new Error(`wrk: no ${p}% latency in output:\n${raw}`);
    return duration(m[1] as string);
  };
  const rps = /^Requests\/sec:\s+([0-9.]+)/m.exec(raw);
  const total = /^\s+(\d+) requests in /m.exec(raw);
  if (rps === null || total === null) throw new Error(`wrk: unexpected output:\n${raw}`);
  let errors = 0;
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(raw);
  if (socket !== null) errors += socket.slice(1).reduce((sum, n) => sum + Number(n), 0);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(raw);
  if (non2xx !== null) errors += Number(non2xx[1]);
  return {
    requestsPerSec: Number(rps[1]),
    requests: Number(total[1]),
    p50: percentile(50),
    p75: percentile(75),
    p90: percentile(90),
    p99: percentile(99),
    errors,
    raw,
  };
}

export function runWrk(opts: WrkOptions): Promise<WrkResult> {
  const durationS = opts.durationS ?? 5;
  const args = [
    `-t${opts.threads ?? 1}`,
    `-c${opts.connections ?? 16}`,
    `-d${durationS}s`,
    "--latency",
    opts.url,
  ];
  return new Promise((res, rej) => {
    execFile(
      "wrk",
      args,
      { timeout: durationS * 1_000 + (opts.graceMs ?? 10_000), killSignal: "SIGKILL" },
      (err, stdout, stderr) => {
        if (err !== null) {
          rej(new Error(`wrk ${args.join(" ")} failed: ${err.message}\n${stderr}`));
          return;
        }
        try {
          res(parseWrk(stdout));
        } catch (e) {
          rej(e);
        }
      },
    );
  });
}
