/**
 * The golden signals of one route, counted inside the proxy: requests by status code, a
 * latency histogram, connections and bytes. Counters only grow while the route exists;
 * `since` says when they started, so a reader sees a reset (new proxy, re-created route).
 *
 * The proxy's cost budget is a few integer increments per request: every counter lives in
 * this object, which the sessions of the route hold directly (no lookup by name), and
 * codes and buckets are typed-array slots (no allocation per request).
 */
import type { RouteStatsSnapshot } from "./protocol.js";

/** Upper bounds of the latency buckets, in seconds (Prometheus' default buckets). */
export const LATENCY_BUCKETS_S: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
const BOUNDS_MS = Float64Array.from(LATENCY_BUCKETS_S, (s) => s * 1000);
const BUCKET_COUNT = BOUNDS_MS.length;

/** Status codes are three digits; slot 0 holds anything else (never seen from the framer). */
const CODE_SLOTS = 600;

/**
 * Recorded for a request whose client went away before its response was complete — the
 * code nginx logs for it, which operators already read as "the client gave up".
 */
export const CLIENT_CLOSED_REQUEST = 499;

export class RouteStats {
  /** Open client connections. */
  openConnections = 0;
  /** Client connections accepted. */
  connectionsTotal = 0;
  /** Bytes received from clients. */
  bytesIn = 0;
  /** Bytes sent to clients. */
  bytesOut = 0;
  /** Float64 counters stay exact up to 2^53, far beyond any proxy's life. */
  private readonly codes = new Float64Array(CODE_SLOTS);
  /** Non-cumulative: slot i counts durations in (bound i-1, bound i]; the last, above all. */
  private readonly buckets = new Float64Array(BUCKET_COUNT + 1);
  private durationSumMs = 0;
  private responses = 0;

  constructor(
    /** ms since the epoch when counting started. */
    readonly since: number = Date.now(),
  ) {}

  /** A request ended with `status`, `elapsedMs` after its first byte arrived. */
  observe(status: number, elapsedMs: number): void {
    const codes = this.codes;
    const slot = status >= 100 && status < CODE_SLOTS ? status : 0;
    codes[slot] = (codes[slot] as number) + 1;
    let i = 0;
    while (i < BUCKET_COUNT && elapsedMs > (BOUNDS_MS[i] as number)) i++;
    const buckets = this.buckets;
    buckets[i] = (buckets[i] as number) + 1;
    this.durationSumMs += elapsedMs;
    this.responses++;
  }

  snapshot(app: string, protocol: "http" | "tcp"): RouteStatsSnapshot {
    const base = {
      app,
      protocol,
      since: this.since,
      openConnections: this.openConnections,
      connectionsTotal: this.connectionsTotal,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
    };
    if (protocol === "tcp") return base;
    const requests: Record<string, number> = {};
    for (let code = 0; code < CODE_SLOTS; code++) {
      const n = this.codes[code] as number;
      if (n > 0) requests[code === 0 ? "other" : String(code)] = n;
    }
    const cumulative: number[] = [];
    let running = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      running += this.buckets[i] as number;
      cumulative.push(running);
    }
    return {
      ...base,
      requests,
      duration: {
        bucketsS: [...LATENCY_BUCKETS_S],
        cumulative,
        sumS: this.durationSumMs / 1000,
        count: this.responses,
      },
    };
  }
}
