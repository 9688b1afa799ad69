/**
 * What stops a slow or greedy client from holding the proxy (slowloris): an absolute deadline
 * for a request head, and caps on open client connections, per client address and in all.
 * Each can be set on the proxy process (`--head-timeout-ms`, `--max-connections`,
 * `--max-connections-per-client`, else BATON_PROXY_HEAD_TIMEOUT_MS, BATON_PROXY_MAX_CONNECTIONS,
 * BATON_PROXY_MAX_CONNECTIONS_PER_CLIENT in its environment, which the controller passes on).
 */
import type { Socket } from "node:net";

export interface ProxyLimits {
  /**
   * A request head must be complete this long after its first byte, however the bytes
   * trickle in (like HAProxy's `timeout http-request` and nginx's `client_header_timeout`);
   * else the client gets 408 and is closed.
   */
  readonly headTimeoutMs: number;
  /** Open client connections of the whole proxy, every route together. */
  readonly maxConnections: number;
  /** Open client connections from one client address, every route together. */
  readonly maxConnectionsPerClient: number;
}

/**
 * 10 s as HAProxy's usual `timeout http-request`; 256 connections an address is far above what
 * a browser opens (6 a host) and leaves room for a NAT, and 10,000 in all stays within the
 * file descriptors of a default service.
 */
export const DEFAULT_LIMITS: ProxyLimits = {
  headTimeoutMs: 10_000,
  maxConnections: 10_000,
  maxConnectionsPerClient: 256,
};

/** The limits, each from its flag, else its environment variable, else its default. */
export function limitsFrom(
  flags: Readonly<Record<keyof ProxyLimits, string | undefined>>,
  env: NodeJS.ProcessEnv,
): ProxyLimits {
  const pick = (key: keyof ProxyLimits, flag: string, variable: string): number => {
    const given = flags[key] ?? env[variable];
    if (given === undefined || given === "") return DEFAULT_LIMITS[key];
    const value = Number(given);
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(
        `--${flag} / ${variable} must be a whole number ≥ 1, found ${JSON.stringify(given)}`,
      );
    }
    return value;
  };
  return {
    headTimeoutMs: pick("headTimeoutMs", "head-timeout-ms", "BATON_PROXY_HEAD_TIMEOUT_MS"),
    maxConnections: pick("maxConnections", "max-connections", "BATON_PROXY_MAX_CONNECTIONS"),
    maxConnectionsPerClient: pick(
      "maxConnectionsPerClient",
      "max-connections-per-client",
      "BATON_PROXY_MAX_CONNECTIONS_PER_CLIENT",
    ),
  };
}

/** Counts the proxy's open client connections, in all and by address; one per process. */
export class ConnectionCaps {
  private total = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(private readonly limits: ProxyLimits) {}

  /**
   * Whether a new connection may be served; an admitted one is counted until it closes. A
   * refused one is not counted: the caller closes it at once.
   */
  admit(socket: Socket): boolean {
    const address = socket.remoteAddress ?? "";
    const fromAddress = this.byAddress.get(address) ?? 0;
    if (this.total >= this.limits.maxConnections) return false;
    if (fromAddress >= this.limits.maxConnectionsPerClient) return false;
    this.total++;
    this.byAddress.set(address, fromAddress + 1);
    socket.once("close", () => {
      this.total--;
      const left = (this.byAddress.get(address) ?? 1) - 1;
      if (left === 0) this.byAddress.delete(address);
      else this.byAddress.set(address, left);
    });
    return true;
  }
}
