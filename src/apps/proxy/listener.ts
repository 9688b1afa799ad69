/**
 * A public port the proxy serves for one route. HTTP and TCP listeners differ in how
 * they move bytes, not in how the route table drives them.
 */
import type { Server, Socket } from "node:net";
import { ProxyError } from "./errors.js";
import { type ConnectionCaps, DEFAULT_LIMITS, type ProxyLimits } from "./limits.js";
import type { RouteProtocol } from "./protocol.js";

/** One accepted client connection, as the listener needs to manage it. */
export interface ClientSession {
  /** Close now if between requests, else right after the current exchange. */
  closeIdle(): void;
  destroy(): void;
  /** Called every sweep: closes the connection if it sat idle too long. */
  sweep(tick: number): void;
}

/** How often idle connections are looked for, at most; also the unit of SweepClock ticks. */
export const SWEEP_INTERVAL_MS = 5_000;

/** A keep-alive client silent this long between requests is closed. */
export const CLIENT_IDLE_TIMEOUT_MS = 60_000;

/**
 * Sweeps come at least four times per head deadline, so a head is cut at most a quarter of
 * the deadline late.
 */
export function sweepIntervalMs(limits: ProxyLimits): number {
  return Math.min(SWEEP_INTERVAL_MS, Math.max(10, Math.floor(limits.headTimeoutMs / 4)));
}

/**
 * A clock that advances once a sweep. Sessions stamp it on activity — a field read, where
 * a timer per connection would cost a timer update per chunk.
 */
export interface SweepClock {
  tick: number;
  /** Sweeps a keep-alive client may stay silent between requests. */
  readonly idleTicks: number;
  /**
   * Sweeps after the one a request head began in by which it must be complete: one more
   * than the deadline holds, so a head is never cut before its deadline.
   */
  readonly headTicks: number;
}

/** What every listener of the proxy shares: the connection caps and the sweep clock's units. */
export interface ListenerContext {
  readonly caps: ConnectionCaps | null;
  readonly limits: ProxyLimits;
}

export function newClock(limits: ProxyLimits = DEFAULT_LIMITS): SweepClock {
  const interval = sweepIntervalMs(limits);
  return {
    tick: 0,
    idleTicks: Math.ceil(CLIENT_IDLE_TIMEOUT_MS / interval),
    headTicks: Math.ceil(limits.headTimeoutMs / interval) + 1,
  };
}

/**
 * Whether a new client may be served under the caps; a refused one is sent `refusal` (if
 * any) and closed. Over the caps, a connection costs the proxy nothing more than this.
 */
export function admitted(context: ListenerContext, socket: Socket, refusal?: Buffer): boolean {
  if (context.caps === null || context.caps.admit(socket)) return true;
  if (refusal === undefined) socket.destroy();
  else socket.end(refusal, () => socket.destroy());
  return false;
}

export interface Listener {
  readonly protocol: RouteProtocol;
  readonly host: string;
  readonly port: number;
  /** Open client connections. */
  readonly connectionCount: number;
  /** Stops accepting (the port is free at once); open connections go on. */
  close(): void;
  closeIdle(): void;
  destroyAll(): void;
  /** Advances the listener's clock and closes connections idle for too long. */
  sweep(): void;
}

/** A bound server and its sessions; HTTP and TCP differ only in the sessions they make. */
export class SessionListener<S extends ClientSession> implements Listener {
  constructor(
    readonly protocol: RouteProtocol,
    private readonly server: Server,
    private readonly sessions: SessionSet<S>,
    readonly host: string,
    readonly port: number,
  ) {}

  get connectionCount(): number {
    return this.sessions.size;
  }

  close(): void {
    this.server.close();
  }

  closeIdle(): void {
    this.sessions.closeIdle();
  }

  sweep(): void {
    this.sessions.sweep();
  }

  destroyAll(): void {
    this.sessions.destroyAll();
  }
}

/** Tracks a listener's sessions so it can close idle ones and tell when none is left. */
export class SessionSet<S extends ClientSession> {
  private readonly sessions = new Set<S>();
  private closing = false;
  readonly clock: SweepClock;

  constructor(limits: ProxyLimits = DEFAULT_LIMITS) {
    this.clock = newClock(limits);
  }

  get size(): number {
    return this.sessions.size;
  }

  add(session: S): void {
    this.sessions.add(session);
    if (this.closing) session.closeIdle();
  }

  delete(session: S): void {
    this.sessions.delete(session);
  }

  closeIdle(): void {
    this.closing = true;
    for (const s of [...this.sessions]) s.closeIdle();
  }

  sweep(): void {
    const tick = ++this.clock.tick;
    for (const s of this.sessions) s.sweep(tick);
  }

  destroyAll(): void {
    for (const s of [...this.sessions]) s.destroy();
  }
}

/** Binds a server; a port taken or forbidden becomes a ProxyError the API answers 409. */
export function bindServer(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off("listening", onListening);
      if (err.code === "EADDRINUSE") {
        reject(
          new ProxyError(
            "proxy.port_in_use",
            `port ${port} is already in use by another process`,
            409,
            { cause: err },
          ),
        );
      } else if (err.code === "EACCES" || err.code === "EPERM") {
        reject(
          new ProxyError(
            "proxy.port_denied",
            `port ${port} on ${host} may not be bound by the proxy (${err.code}); use a port above 1023 or grant the capability`,
            409,
            { cause: err },
          ),
        );
      } else if (err.code === "EADDRNOTAVAIL") {
        reject(
          new ProxyError(
            "proxy.invalid_route",
            `host ${host} is not an address of this machine`,
            400,
            { cause: err },
          ),
        );
      } else {
        reject(err);
      }
    };
    const onListening = (): void => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    // exclusive: never share the port with another process through the cluster module.
    server.listen({ host, port, exclusive: true, backlog: 1024 });
  });
}
