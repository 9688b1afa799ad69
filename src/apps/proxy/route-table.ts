/**
 * All routes of the proxy: binds and rebinds listeners, hands backend lists to routes,
 * answers drains and persists every change. Changes are applied one at a time, so two
 * concurrent PUTs can never bind the same port twice or persist out of order.
 */
import { ProxyError } from "./errors.js";
import { openHttpListener } from "./http-proxy.js";
import { ConnectionCaps, DEFAULT_LIMITS, type ProxyLimits } from "./limits.js";
import { type Listener, type ListenerContext, sweepIntervalMs } from "./listener.js";
import {
  DEFAULT_ROUTE_HOST,
  type DeleteResult,
  type DrainResult,
  type ProxyStats,
  type RouteSpec,
  type RouteStatsSnapshot,
  type RouteStatus,
  validateAppName,
} from "./protocol.js";
import { Route } from "./route.js";
import { RouteStats } from "./route-stats.js";
import type { RouteStore } from "./route-store.js";
import { openTcpListener } from "./tcp-proxy.js";
import type { Upstream } from "./upstream.js";

interface Entry {
  readonly route: Route<Upstream>;
  spec: RouteSpec;
  listener: Listener | null;
}

export type Log = (message: string) => void;

export interface RouteTableOptions {
  /** Count each route's golden signals (default true); off only to measure their cost. */
  readonly metrics?: boolean;
  /** Head deadline and connection caps (limits.ts); the defaults stop slowloris. */
  readonly limits?: ProxyLimits;
}

function openListener(
  route: Route<Upstream>,
  protocol: RouteSpec["protocol"],
  host: string,
  port: number,
  context: ListenerContext,
): Promise<Listener> {
  return protocol === "http"
    ? openHttpListener(route, host, port, context)
    : openTcpListener(route, host, port, context);
}

/** Polls a condition until true or the deadline; used only while shutting down. */
async function until(condition: () => boolean, deadline: number): Promise<boolean> {
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

export class RouteTable {
  private readonly entries = new Map<string, Entry>();
  /** Listeners replaced or deleted whose connections are still open. */
  private readonly retired = new Set<Listener>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly sweeper: NodeJS.Timeout;
  private readonly metrics: boolean;
  /** One set of caps for every listener: a client's connections count across all routes. */
  private readonly context: ListenerContext;
  /** When this table (the proxy process) started, ms since the epoch. */
  readonly startedAt = Date.now();

  constructor(
    private readonly store: RouteStore,
    private readonly log: Log,
    options: RouteTableOptions = {},
  ) {
    this.metrics = options.metrics ?? true;
    const limits = options.limits ?? DEFAULT_LIMITS;
    this.context = { caps: new ConnectionCaps(limits), limits };
    // One timer for everything: 50 idle apps cost one wake-up every few seconds.
    this.sweeper = setInterval(() => this.sweep(), sweepIntervalMs(limits));
    this.sweeper.unref();
  }

  private sweep(): void {
    const now = Date.now();
    for (const e of this.entries.values()) {
      e.listener?.sweep();
      e.route.sweep(now);
    }
    for (const l of this.retired) l.sweep();
  }

  /** Serves the routes saved by the previous run; a port that cannot be bound is logged. */
  async load(): Promise<void> {
    const saved = this.store.load((app, reason) =>
      this.log(`ignoring saved route ${app}: ${reason}`),
    );
    for (const [app, spec] of saved) {
      try {
        await this.apply(app, spec, false);
      } catch (err) {
        // Keep the route (it is still what the controller wants): the next PUT rebinds.
        const route = this.newRoute(app);
        this.describe(route, spec);
        route.setBackends(spec.backends);
        this.entries.set(app, { route, spec, listener: null });
        this.log(`route ${app}: cannot listen on port ${spec.port}: ${(err as Error).message}`);
      }
    }
    if (saved.size > 0) this.log(`loaded ${saved.size} route(s) from ${this.store.path}`);
  }

  setRoute(app: string, spec: RouteSpec): Promise<RouteStatus> {
    validateAppName(app);
    return this.serialize(() => this.apply(app, spec, true));
  }

  deleteRoute(app: string, timeoutMs: number): Promise<DeleteResult> {
    validateAppName(app);
    return this.serialize(async () => {
      const entry = this.entries.get(app);
      if (entry === undefined) return { deleted: false, drained: true };
      this.entries.delete(app);
      this.persist();
      const { route, listener } = entry;
      listener?.close();
      listener?.closeIdle();
      const busy = [...route.pool, ...route.draining];
      route.close();
      const results = await Promise.all(busy.map((b) => b.waitIdle(timeoutMs)));
      const drained = results.every(Boolean);
      // Whatever is still open after the drain bound is cut: the route is gone.
      listener?.destroyAll();
      this.log(`route ${app}: deleted${drained ? "" : " (drain timed out)"}`);
      return { deleted: true, drained };
    });
  }

  async drain(app: string, id: string, timeoutMs: number): Promise<DrainResult> {
    validateAppName(app);
    const entry = this.entries.get(app);
    if (entry === undefined) {
      throw new ProxyError("proxy.unknown_route", `no route for app ${app}`, 404);
    }
    const backend = entry.route.find(id);
    if (backend === undefined) return { drained: true, inflight: 0 };
    const drained = await backend.waitIdle(timeoutMs);
    entry.route.sweepDraining();
    return { drained, inflight: backend.inflight };
  }

  snapshot(): RouteStatus[] {
    return [...this.entries.values()].map((e) => e.route.status(e.listener !== null));
  }

  stats(): ProxyStats {
    const routes: RouteStatsSnapshot[] = [];
    for (const e of this.entries.values()) {
      const s = e.route.statsSnapshot();
      if (s !== null) routes.push(s);
    }
    return { pid: process.pid, startedAt: this.startedAt, metrics: this.metrics, routes };
  }

  /**
   * Stops accepting on every port, lets in-flight requests finish (keep-alive clients are
   * closed between requests) for at most `timeoutMs`, then cuts what is left.
   */
  async shutdown(timeoutMs: number): Promise<boolean> {
    clearInterval(this.sweeper);
    const listeners = [...this.retired];
    for (const e of this.entries.values()) if (e.listener !== null) listeners.push(e.listener);
    for (const l of listeners) {
      l.close();
      l.closeIdle();
    }
    const done = await until(
      () => listeners.every((l) => l.connectionCount === 0),
      Date.now() + timeoutMs,
    );
    for (const l of listeners) l.destroyAll();
    for (const e of this.entries.values()) e.route.close();
    return done;
  }

  private serialize<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(app: string, spec: RouteSpec, persist: boolean): Promise<RouteStatus> {
    const host = spec.host ?? DEFAULT_ROUTE_HOST;
    for (const [other, e] of this.entries) {
      if (other !== app && e.listener !== null && e.spec.port === spec.port) {
        throw new ProxyError(
          "proxy.port_in_use",
          `port ${spec.port} is already in use by app ${other}`,
          409,
        );
      }
    }
    const entry = this.entries.get(app);
    const route = entry?.route ?? this.newRoute(app);
    const old = entry?.listener ?? null;
    let listener = old;
    if (
      old === null ||
      old.port !== spec.port ||
      old.host !== host ||
      old.protocol !== spec.protocol
    ) {
      if (old !== null && old.port === spec.port) {
        // Same port, other host or protocol: the old socket must go before the new binds.
        old.close();
        try {
          listener = await openListener(route, spec.protocol, host, spec.port, this.context);
        } catch (err) {
          listener = await openListener(
            route,
            old.protocol,
            old.host,
            old.port,
            this.context,
          ).catch(() => null);
          if (entry !== undefined) entry.listener = listener;
          throw err;
        }
      } else {
        // Bind first: a failure leaves the old state serving untouched.
        listener = await openListener(route, spec.protocol, host, spec.port, this.context);
        old?.close();
      }
      if (old !== null) this.retire(old);
    }
    this.describe(route, spec);
    route.setBackends(spec.backends);
    if (entry === undefined) this.entries.set(app, { route, spec, listener });
    else {
      entry.spec = spec;
      entry.listener = listener;
    }
    if (persist) this.persist();
    this.log(
      `route ${app}: ${spec.protocol} ${host}:${spec.port} -> [${spec.backends.map((b) => `${b.id}@${b.host}:${b.port}`).join(", ")}]`,
    );
    return route.status(true);
  }

  private newRoute(app: string): Route<Upstream> {
    return new Route<Upstream>(app, this.metrics ? new RouteStats() : null);
  }

  private describe(route: Route<Upstream>, spec: RouteSpec): void {
    route.port = spec.port;
    route.host = spec.host ?? DEFAULT_ROUTE_HOST;
    route.protocol = spec.protocol;
  }

  private retire(listener: Listener): void {
    listener.closeIdle();
    this.retired.add(listener);
    // Forget it once its last connection is gone; checked lazily, it costs nothing.
    const sweep = (): void => {
      if (listener.connectionCount === 0) this.retired.delete(listener);
      else setTimeout(sweep, 1_000).unref();
    };
    sweep();
  }

  private persist(): void {
    const specs = new Map<string, RouteSpec>();
    for (const [app, e] of this.entries) specs.set(app, e.spec);
    this.store.save(specs);
  }
}
