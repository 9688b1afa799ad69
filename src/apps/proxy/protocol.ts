/**
 * The control API's shapes, shared by the proxy process and its client. Bodies are
 * validated here so both sides agree on one definition of a valid route.
 */
import { z } from "zod";
import { ProxyError } from "./errors.js";

export type RouteProtocol = "http" | "tcp";

export interface BackendSpec {
  /** The replica id; stable for the replica's life. */
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

export interface RouteSpec {
  /** Public port the proxy listens on for this app. */
  readonly port: number;
  readonly protocol: RouteProtocol;
  /** Address to bind; 127.0.0.1 unless the definition asks for more. */
  readonly host?: string;
  /** The complete list of ready backends: anything absent is drained. */
  readonly backends: readonly BackendSpec[];
}

export interface BackendStatus extends BackendSpec {
  /** Requests in progress (HTTP) or open connections (TCP). */
  readonly inflight: number;
  /** Open connections from the proxy to this backend. */
  readonly connections: number;
  /** Requests (HTTP) or connections (TCP) sent to it so far. */
  readonly requests: number;
  /** Connects refused or connections broken before an answer. */
  readonly failures: number;
}

export interface RouteStatus {
  readonly app: string;
  readonly port: number;
  readonly host: string;
  readonly protocol: RouteProtocol;
  /** False when the last bind failed (e.g. at start, from proxy.json): not serving. */
  readonly listening: boolean;
  readonly backends: readonly BackendStatus[];
  readonly draining: readonly BackendStatus[];
}

export interface RoutesSnapshot {
  readonly pid: number;
  readonly routes: readonly RouteStatus[];
}

export interface DrainResult {
  readonly drained: boolean;
  readonly inflight: number;
}

export interface DeleteResult {
  readonly deleted: boolean;
  readonly drained: boolean;
}

export interface HealthStatus {
  readonly ok: true;
  readonly pid: number;
}

/** A cumulative latency histogram, as Prometheus defines one. */
export interface DurationHistogram {
  /** Upper bounds (`le`) of the buckets, in seconds, ascending; +Inf is implied. */
  readonly bucketsS: readonly number[];
  /** Requests that took at most bucketsS[i]; the +Inf bucket is `count`. */
  readonly cumulative: readonly number[];
  readonly sumS: number;
  readonly count: number;
}

/**
 * One route's counters. They only grow while the route exists; `since` (ms since the epoch)
 * changes when they start again from zero (proxy restarted, route deleted and re-created).
 */
export interface RouteStatsSnapshot {
  readonly app: string;
  readonly protocol: RouteProtocol;
  readonly since: number;
  /** Open client connections. */
  readonly openConnections: number;
  readonly connectionsTotal: number;
  /** Bytes from clients, and to them. */
  readonly bytesIn: number;
  readonly bytesOut: number;
  /**
   * HTTP routes: requests by exact status code ("200", "502"...). Answers of the proxy itself
   * count with their code (502 backend failed, 503 no ready backend, 400/431/408), and a
   * request whose client left before its response was complete as "499".
   */
  readonly requests?: Readonly<Record<string, number>>;
  /** HTTP routes: time from a request's first byte to the end of its response. */
  readonly duration?: DurationHistogram;
}

export interface ProxyStats {
  readonly pid: number;
  /** When this proxy process started (ms since the epoch): every counter began then or later. */
  readonly startedAt: number;
  /** False when the proxy runs with metrics off: `routes` is empty. */
  readonly metrics: boolean;
  readonly routes: readonly RouteStatsSnapshot[];
}

export const DEFAULT_ROUTE_HOST = "127.0.0.1";

const port = z.number().int().min(1).max(65535);
const host = z.string().min(1).max(255);

const backendSchema = z.strictObject({
  id: z.string().min(1).max(200),
  host,
  port,
});

const routeSchema = z.strictObject({
  port,
  protocol: z.enum(["http", "tcp"]),
  host: host.optional(),
  backends: z.array(backendSchema).max(10_000),
});

const drainSchema = z.strictObject({
  id: z.string().min(1),
  timeoutMs: z.number().int().min(0).max(3_600_000).optional(),
});

/** App names become URL path segments and log fields: keep them plain. */
const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function validateAppName(app: string): string {
  if (!APP_NAME.test(app)) {
    throw new ProxyError(
      "proxy.invalid_route",
      `app name ${JSON.stringify(app)} must be letters, digits, '.', '_' or '-' (at most 128)`,
      400,
    );
  }
  return app;
}

function describe(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => `${i.path.length > 0 ? i.path.join(".") : "body"}: ${i.message}`)
    .join("; ");
}

export function parseRouteSpec(value: unknown): RouteSpec {
  const parsed = routeSchema.safeParse(value);
  if (!parsed.success) {
    throw new ProxyError("proxy.invalid_route", describe(parsed.error.issues), 400);
  }
  const ids = new Set<string>();
  for (const b of parsed.data.backends) {
    if (ids.has(b.id)) {
      throw new ProxyError(
        "proxy.invalid_route",
        `backends: duplicate id ${JSON.stringify(b.id)}`,
        400,
      );
    }
    ids.add(b.id);
  }
  return parsed.data;
}

export function parseDrainRequest(value: unknown): { id: string; timeoutMs: number } {
  const parsed = drainSchema.safeParse(value);
  if (!parsed.success) {
    throw new ProxyError("proxy.invalid_request", describe(parsed.error.issues), 400);
  }
  return { id: parsed.data.id, timeoutMs: parsed.data.timeoutMs ?? 10_000 };
}
