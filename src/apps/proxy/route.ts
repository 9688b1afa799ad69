/**
 * The live state of one app's route: the pool of ready backends, the backends draining
 * out of it, and the sessions waiting for a backend to become ready. Listeners come and
 * go (port changes) but the Route stays, so sessions accepted on an old port still pick
 * from the current pool.
 */
import { Backend, type PooledConnection } from "./backend.js";
import type { BackendSpec, RouteProtocol, RouteStatsSnapshot, RouteStatus } from "./protocol.js";
import type { RouteStats } from "./route-stats.js";

export class Route<C extends PooledConnection = PooledConnection> {
  port = 0;
  host = "";
  protocol: RouteProtocol = "http";
  /** True once the route was deleted: waiting sessions give up at once. */
  closed = false;
  pool: Backend<C>[] = [];
  readonly draining = new Set<Backend<C>>();

  private next = 0;
  private waiters = new Set<() => void>();

  constructor(
    readonly app: string,
    /** The route's golden signals; null when the proxy runs with metrics off. */
    readonly stats: RouteStats | null = null,
  ) {}

  /**
   * The backend for a new request: least in flight, ties broken round robin, backends
   * that recently refused a connect last. `exclude` lists backends that already failed
   * this request. Null when nothing is left to try.
   */
  pick(exclude: readonly Backend<C>[] | null, now: number): Backend<C> | null {
    const pool = this.pool;
    const n = pool.length;
    if (n === 0) return null;
    const first = this.next;
    this.next = first + 1 >= n ? 0 : first + 1;
    let best: Backend<C> | null = null;
    let bestScore = Number.POSITIVE_INFINITY;
    for (let k = 0; k < n; k++) {
      const b = pool[(first + k) % n] as Backend<C>;
      if (exclude?.includes(b)) continue;
      const score = b.downUntil > now ? b.inflight + 1_000_000 : b.inflight;
      if (score < bestScore) {
        best = b;
        bestScore = score;
      }
    }
    return best;
  }

  /**
   * Makes `specs` the pool. Backends that stay keep their counters; backends that leave
   * stop receiving new requests and stay listed as draining until nothing is in flight.
   */
  setBackends(specs: readonly BackendSpec[]): void {
    const current = new Map(this.pool.map((b) => [b.id, b]));
    const drainingById = new Map([...this.draining].map((b) => [b.id, b]));
    const next: Backend<C>[] = [];
    for (const spec of specs) {
      const kept = current.get(spec.id);
      if (kept?.sameAddress(spec)) {
        current.delete(spec.id);
        next.push(kept);
        continue;
      }
      const revived = drainingById.get(spec.id);
      if (revived?.sameAddress(spec)) {
        this.draining.delete(revived);
        revived.inPool = true;
        next.push(revived);
        continue;
      }
      next.push(new Backend<C>(spec.id, spec.host, spec.port));
    }
    for (const gone of current.values()) this.retire(gone);
    this.pool = next;
    if (this.next >= next.length) this.next = 0;
    if (next.length > 0) this.wake();
  }

  /**
   * Calls `onChange` once, when the pool changes or the route closes, or at the timeout.
   * Returns a cancel function.
   */
  waitForChange(onChange: () => void, timeoutMs: number): () => void {
    let timer: NodeJS.Timeout | null = null;
    const waiter = (): void => {
      if (timer !== null) clearTimeout(timer);
      this.waiters.delete(waiter);
      onChange();
    };
    timer = setTimeout(waiter, Math.max(0, timeoutMs));
    this.waiters.add(waiter);
    return () => {
      if (timer !== null) clearTimeout(timer);
      this.waiters.delete(waiter);
    };
  }

  /** The route is deleted: waiting sessions are answered now. */
  close(): void {
    this.closed = true;
    this.setBackends([]);
    this.wake();
  }

  /** The backend with this id, in the pool or draining. */
  find(id: string): Backend<C> | undefined {
    return this.pool.find((b) => b.id === id) ?? [...this.draining].find((b) => b.id === id);
  }

  status(listening: boolean): RouteStatus {
    this.sweepDraining();
    return {
      app: this.app,
      port: this.port,
      host: this.host,
      protocol: this.protocol,
      listening,
      backends: this.pool.map((b) => b.status()),
      draining: [...this.draining].map((b) => b.status()),
    };
  }

  statsSnapshot(): RouteStatsSnapshot | null {
    return this.stats === null ? null : this.stats.snapshot(this.app, this.protocol);
  }

  /** Periodic upkeep: old pooled connections closed, drained backends forgotten. */
  sweep(now: number): void {
    for (const b of this.pool) b.purgeIdle(now);
    this.sweepDraining();
  }

  /** Draining backends with nothing left in flight are forgotten. */
  sweepDraining(): void {
    for (const b of this.draining)
      if (b.inflight === 0 && b.connections === 0) this.draining.delete(b);
  }

  private retire(backend: Backend<C>): void {
    backend.inPool = false;
    backend.closeIdle();
    if (backend.inflight > 0 || backend.connections > 0) this.draining.add(backend);
  }

  private wake(): void {
    if (this.waiters.size === 0) return;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }
}
