/**
 * A bounded, fixed-rate HTTP load over a few keep-alive connections: what steady traffic
 * looks like to an app while it is updated or its manager restarts.
 *
 * Each of `connections` loops owns one keep-alive socket (an Agent with one socket) and sends
 * one GET at a time, on a fixed schedule (`ratePerS / connections` per loop, the loops offset
 * from each other). A loop that falls behind sends at once; one more than 250 ms behind drops
 * the missed slots (counted as `skipped`) instead of bursting. Every request is counted: 2xx is
 * served, anything else (another status, a reset, a refused connection, no answer within
 * `timeoutMs`) is failed, by kind. Bounded: it stops at `stop()`, after `maxDurationMs`, or
 * after `ratePerS × maxDurationMs` requests, whichever comes first.
 *
 * The app answers "VERSION PID": the load records when each version was first and last seen,
 * so a rollout's switch-over shows in the traffic itself.
 */
import { Agent, request } from "node:http";

export interface LoadOptions {
  readonly port: number;
  readonly ratePerS: number;
  readonly connections: number;
  /** Hard cap on the run, whatever happens: the load stops by itself then. */
  readonly maxDurationMs: number;
  /** A request without a full answer by then is failed ("timeout"). */
  readonly timeoutMs?: number;
  readonly path?: string;
  readonly host?: string;
}

export interface VersionSeen {
  readonly count: number;
  /** performance.now() of the first and last answer carrying this version. */
  readonly firstAt: number;
  readonly lastAt: number;
}

export interface LoadResult {
  /** performance.now() when the load started, and when it stopped sending (stop() or a bound). */
  readonly startedAt: number;
  readonly stoppedAt: number;
  /** startedAt → stoppedAt; requests still in flight then are waited for and counted. */
  readonly durationMs: number;
  /** Requests sent and finished (served + failed). */
  readonly requests: number;
  readonly served: number;
  readonly failed: number;
  /** Failed requests by kind, e.g. "HTTP 502", "ECONNRESET on a reused socket", "timeout". */
  readonly errors: Readonly<Record<string, number>>;
  /** performance.now() of the first failures (at most 50), to line up with what happened. */
  readonly failedAt: readonly number[];
  /** requests / durationMs. */
  readonly achievedPerS: number;
  /** Schedule slots given up because a loop was more than 250 ms behind. */
  readonly skipped: number;
  /** TCP connections opened (one per loop at the start; more when one was closed). */
  readonly connectionsOpened: number;
  /** Latency of every finished request, ms. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly versions: Readonly<Record<string, VersionSeen>>;
  /** Why the load stopped: asked to, or one of its bounds. */
  readonly stoppedBy: "stop" | "time" | "count";
}

export interface RunningLoad {
  /** Stops sending, waits (bounded by timeoutMs) for what is in flight, and reports. */
  stop(): Promise<LoadResult>;
}

const MAX_LAG_MS = 250;
const MAX_FAILED_AT = 50;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function startLoad(opts: LoadOptions): RunningLoad {
  const host = opts.host ?? "127.0.0.1";
  const path = opts.path ?? "/";
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const maxRequests = Math.ceil((opts.ratePerS * opts.maxDurationMs) / 1_000);
  const intervalMs = (opts.connections * 1_000) / opts.ratePerS;
  const startedAt = performance.now();
  const deadline = startedAt + opts.maxDurationMs;

  const latencies = new Float64Array(maxRequests);
  const errors: Record<string, number> = {};
  const failedAt: number[] = [];
  const versions = new Map<string, { count: number; firstAt: number; lastAt: number }>();
  let sent = 0;
  let finished = 0;
  let served = 0;
  let failed = 0;
  let skipped = 0;
  let opened = 0;
  let stopping = false;
  let stoppedBy: LoadResult["stoppedBy"] = "stop";
  const sleepers = new Set<() => void>();

  const fail = (kind: string, at: number) => {
    failed += 1;
    errors[kind] = (errors[kind] ?? 0) + 1;
    if (failedAt.length < MAX_FAILED_AT) failedAt.push(at);
  };

  const one = (agent: Agent): Promise<void> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      let settled = false;
      let reused = false;
      const done = (kind?: string, version?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const now = performance.now();
        if (finished < latencies.length) latencies[finished] = now - t0;
        finished += 1;
        if (kind !== undefined) fail(reused ? `${kind} on a reused socket` : kind, now);
        else {
          served += 1;
          if (version !== undefined) {
            const seen = versions.get(version);
            if (seen === undefined) versions.set(version, { count: 1, firstAt: now, lastAt: now });
            else {
              seen.count += 1;
              seen.lastAt = now;
            }
          }
        }
        resolve();
      };
      const req = request({ host, port: opts.port, path, method: "GET", agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) done(`HTTP ${status}`);
          else done(undefined, Buffer.concat(chunks).toString().split(" ")[0]);
        });
        res.on("error", (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
      });
      req.on("socket", (socket) => {
        reused = req.reusedSocket;
        if (!reused) {
          opened += 1;
          socket.setNoDelay(true);
        }
      });
      const timer = setTimeout(() => {
        done("timeout");
        req.destroy();
      }, timeoutMs);
      req.on("error", (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
      req.end();
    });

  const sleep = (ms: number) =>
    new Promise<void>((res) => {
      const wake = () => {
        clearTimeout(t);
        sleepers.delete(wake);
        res();
      };
      const t = setTimeout(wake, ms);
      sleepers.add(wake);
    });

  const loop = async (index: number): Promise<void> => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });
    let next = startedAt + (index * intervalMs) / opts.connections;
    try {
      for (;;) {
        if (stopping) return;
        const now = performance.now();
        if (now >= deadline) {
          stoppedBy = "time";
          return;
        }
        if (sent >= maxRequests) {
          stoppedBy = "count";
          return;
        }
        if (next > now) {
          await sleep(Math.min(next - now, deadline - now));
          continue;
        }
        if (now - next > MAX_LAG_MS) {
          const missed = Math.floor((now - next) / intervalMs);
          skipped += missed;
          next += missed * intervalMs;
        }
        sent += 1;
        await one(agent);
        next += intervalMs;
      }
    } finally {
      agent.destroy();
    }
  };

  const loops = Array.from({ length: opts.connections }, (_, i) => loop(i));

  return {
    async stop() {
      const stoppedAt = Math.min(performance.now(), deadline);
      stopping = true;
      for (const wake of [...sleepers]) wake();
      // A loop with a request in flight returns once it is answered or timed out.
      await Promise.all(loops);
      const durationMs = stoppedAt - startedAt;
      const sorted = latencies.slice(0, Math.min(finished, latencies.length)).sort();
      return {
        startedAt,
        stoppedAt,
        durationMs,
        requests: finished,
        served,
        failed,
        errors,
        failedAt,
        achievedPerS: durationMs > 0 ? (finished * 1_000) / durationMs : 0,
        skipped,
        connectionsOpened: opened,
        latencyMs: {
          p50: percentile(sorted, 50),
          p99: percentile(sorted, 99),
          max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
        },
        versions: Object.fromEntries(versions),
        stoppedBy,
      };
    },
  };
}
