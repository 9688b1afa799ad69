/**
 * One backend (a ready replica) of a route, with its live counters and its pool of idle
 * upstream connections. The same object is shared by every listener and session of the
 * route, so the counters are exact without any bookkeeping elsewhere.
 */
import type { BackendSpec, BackendStatus } from "./protocol.js";

/** What the idle pool needs of a pooled connection. */
export interface PooledConnection {
  idleSince: number;
  destroy(): void;
}

/** Idle upstream connections kept per backend: enough for a burst, small when idle. */
export const MAX_IDLE_PER_BACKEND = 32;
/**
 * An idle connection older than this is closed instead of reused: servers close idle
 * keep-alive connections on their own (Node after 5 s, gunicorn after 2 s) and a request
 * sent into such a close would fail. Reconnecting on loopback costs far less.
 */
export const MAX_IDLE_AGE_MS = 1_500;
/** After a refused connect, other backends are preferred for this long. */
export const DOWN_PENALTY_MS = 1_000;

export class Backend<C extends PooledConnection = PooledConnection> {
  /** Requests in progress (HTTP) or open client connections (TCP). Drained at 0. */
  inflight = 0;
  /** Open connections from the proxy to this backend, busy or idle. */
  connections = 0;
  requests = 0;
  failures = 0;
  /** False once the backend left the pool: no new request goes to it. */
  inPool = true;
  /** Date.now() until which a refused connect makes it the last choice. */
  downUntil = 0;

  private readonly idle: C[] = [];
  private idleWaiters: Array<() => void> = [];

  constructor(
    readonly id: string,
    readonly host: string,
    readonly port: number,
  ) {}

  sameAddress(spec: BackendSpec): boolean {
    return spec.host === this.host && spec.port === this.port;
  }

  /** A request (or TCP connection) starts on this backend. */
  begin(): void {
    this.inflight++;
    this.requests++;
  }

  /** A request (or TCP connection) ended; wakes drain waiters at zero. */
  end(): void {
    this.inflight--;
    if (this.inflight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** A connection refused or broken before any answer. */
  failed(now: number): void {
    this.failures++;
    this.downUntil = now + DOWN_PENALTY_MS;
  }

  /** The most recently used idle connection young enough to be trusted, or null. */
  takeIdle(now: number): C | null {
    const idle = this.idle;
    while (idle.length > 0) {
      const c = idle.pop() as C;
      if (now - c.idleSince < MAX_IDLE_AGE_MS) return c;
      c.destroy();
    }
    return null;
  }

  /** Keeps a connection for reuse; false when it should be closed instead. */
  putIdle(connection: C, now: number): boolean {
    if (!this.inPool || this.idle.length >= MAX_IDLE_PER_BACKEND) return false;
    connection.idleSince = now;
    this.idle.push(connection);
    return true;
  }

  /** The pooled connection was closed by the backend. */
  removeIdle(connection: C): void {
    const i = this.idle.indexOf(connection);
    if (i >= 0) this.idle.splice(i, 1);
  }

  /** Closes pooled connections too old to be reused (they would be closed at take). */
  purgeIdle(now: number): void {
    const idle = this.idle;
    while (idle.length > 0 && now - (idle[0] as C).idleSince >= MAX_IDLE_AGE_MS) {
      (idle.shift() as C).destroy();
    }
  }

  closeIdle(): void {
    for (const c of this.idle.splice(0)) c.destroy();
  }

  /** Resolves true when nothing is in flight, or false at the timeout. */
  waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.inflight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onIdle = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== onIdle);
        resolve(false);
      }, timeoutMs);
      this.idleWaiters.push(onIdle);
    });
  }

  status(): BackendStatus {
    return {
      id: this.id,
      host: this.host,
      port: this.port,
      inflight: this.inflight,
      connections: this.connections,
      requests: this.requests,
      failures: this.failures,
    };
  }
}
