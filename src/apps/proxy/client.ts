/**
 * How the controller drives the proxy process: find the live one or start it detached,
 * then set routes, drain backends and read counters over its control socket.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { controlRequest, livePid } from "./control-request.js";
import { ProxyError } from "./errors.js";
import type { ProxyLimits } from "./limits.js";
import { proxyPaths } from "./paths.js";
import type {
  DeleteResult,
  DrainResult,
  ProxyStats,
  RouteSpec,
  RouteStatus,
  RoutesSnapshot,
} from "./protocol.js";

export interface EnsureOptions {
  /** Node binary for the proxy process; the current one by default. */
  readonly nodePath?: string;
  /** The proxy entry (dist/apps/proxy/main.js); found beside this module by default. */
  readonly entry?: string;
  /** How long to wait for a started proxy to answer; 10 s by default. */
  readonly startTimeoutMs?: number;
  /**
   * Whether a proxy started now counts golden signals (`--metrics on|off`); by default it
   * follows BATON_PROXY_METRICS (on unless "off"). A live proxy keeps its own setting.
   */
  readonly metrics?: boolean;
  /**
   * Head deadline and connection caps of a proxy started now (limits.ts), as flags; by
   * default from its environment, else the defaults. A live proxy keeps its own.
   */
  readonly limits?: Partial<ProxyLimits>;
}

/** Control calls are local and quick; a drain or delete adds its own timeout to this. */
const REQUEST_TIMEOUT_MS = 10_000;

function defaultEntry(): string {
  const here = fileURLToPath(import.meta.url);
  // This module is dist/apps/proxy/client.js, a chunk of the CLI bundle in dist/bin/, or
  // src/apps/proxy/client.ts under tsx: the entry is dist/apps/proxy/main.js of that checkout.
  const root = /^(.*)[/\\](?:dist|src)[/\\]/.exec(here)?.[1];
  return root === undefined
    ? resolve(dirname(here), "main.js")
    : join(root, "dist", "apps", "proxy", "main.js");
}

function tail(path: string, lines: number): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Polls `condition` every few ms until true or the deadline; resolves to the outcome. */
async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

export class ProxyClient {
  private constructor(
    readonly stateDir: string,
    readonly socketPath: string,
    /** Process id of the proxy this client talks to. */
    readonly pid: number,
  ) {}

  /**
   * The proxy serving `stateDir`: the live one if it answers, else a new one started
   * detached (own session, output appended to `stateDir/logs/proxy.log`) so it outlives
   * the caller.
   */
  static async ensure(stateDir: string, opts: EnsureOptions = {}): Promise<ProxyClient> {
    const dir = resolve(stateDir);
    const paths = proxyPaths(dir);
    const existing = await ProxyClient.connect(dir);
    if (existing !== undefined) return existing;

    const entry = opts.entry ?? defaultEntry();
    if (!existsSync(entry)) {
      throw new ProxyError(
        "proxy.start_failed",
        `proxy entry ${entry} does not exist; build with \`npx tsc -p tsconfig.json\``,
      );
    }
    mkdirSync(dirname(paths.log), { recursive: true, mode: 0o700 });
    const fd = openSync(paths.log, "a", 0o600);
    let exited: string | null = null;
    try {
      const args = [entry, "--state", dir];
      if (opts.metrics !== undefined) args.push("--metrics", opts.metrics ? "on" : "off");
      const limits = opts.limits ?? {};
      if (limits.headTimeoutMs !== undefined)
        args.push("--head-timeout-ms", String(limits.headTimeoutMs));
      if (limits.maxConnections !== undefined)
        args.push("--max-connections", String(limits.maxConnections));
      if (limits.maxConnectionsPerClient !== undefined)
        args.push("--max-connections-per-client", String(limits.maxConnectionsPerClient));
      const child = spawn(opts.nodePath ?? process.execPath, args, {
        detached: true,
        stdio: ["ignore", fd, fd],
        cwd: dir,
      });
      child.on("error", (err) => {
        exited = err.message;
      });
      child.on("exit", (code, signal) => {
        exited = `exited with ${signal ?? `code ${code}`}`;
      });
      child.unref();
    } finally {
      closeSync(fd);
    }

    let client: ProxyClient | undefined;
    // A proxy that exits at once may have lost a start race: the winner answers instead.
    const ok = await waitUntil(async () => {
      client = await ProxyClient.connect(dir);
      return client !== undefined || exited !== null;
    }, opts.startTimeoutMs ?? 10_000);
    client ??= await ProxyClient.connect(dir);
    if (client !== undefined) return client;
    throw new ProxyError(
      "proxy.start_failed",
      `the proxy for ${dir} did not answer on ${paths.socket}${ok ? "" : " in time"}${exited ? ` (it ${exited})` : ""}; last lines of ${paths.log}:\n${tail(paths.log, 20)}`,
    );
  }

  /** A client of the live proxy of `stateDir`, or undefined when none answers. */
  static async connect(stateDir: string): Promise<ProxyClient | undefined> {
    const dir = resolve(stateDir);
    const socketPath = proxyPaths(dir).socket;
    if (!existsSync(socketPath)) return undefined;
    const pid = await livePid(socketPath);
    return pid === undefined ? undefined : new ProxyClient(dir, socketPath, pid);
  }

  /**
   * Sets the app's listen port and its complete list of ready backends. Rejects with
   * `proxy.port_in_use` (409) when the port cannot be bound; the old route keeps serving.
   */
  async setRoute(app: string, route: RouteSpec): Promise<void> {
    await this.call<RouteStatus>("PUT", `/routes/${encodeURIComponent(app)}`, route);
  }

  /**
   * Stops serving the app's port once in-flight requests finished (at most timeoutMs);
   * connections still open then are cut. Deleting an unknown app is not an error.
   */
  async deleteRoute(app: string, timeoutMs = 10_000): Promise<void> {
    await this.call<DeleteResult>(
      "DELETE",
      `/routes/${encodeURIComponent(app)}?timeoutMs=${timeoutMs}`,
      undefined,
      timeoutMs,
    );
  }

  /**
   * Waits until the backend has nothing in flight, or the timeout. Call after the backend
   * left the pool (setRoute without it) and before stopping the replica.
   */
  drain(app: string, id: string, timeoutMs = 10_000): Promise<DrainResult> {
    return this.call(
      "POST",
      `/routes/${encodeURIComponent(app)}/drain`,
      { id, timeoutMs },
      timeoutMs,
    );
  }

  routes(): Promise<RoutesSnapshot> {
    return this.call("GET", "/routes");
  }

  /**
   * Every route's golden signals: requests by code, latency histogram, connections, bytes.
   * Counters are cumulative since `startedAt` (the proxy) or the route's `since`.
   */
  stats(): Promise<ProxyStats> {
    return this.call("GET", "/stats");
  }

  async health(timeoutMs = REQUEST_TIMEOUT_MS): Promise<boolean> {
    try {
      await controlRequest({
        socketPath: this.socketPath,
        method: "GET",
        path: "/health",
        timeoutMs,
      });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * SIGTERM to the proxy (it drains for up to 10 s), then waits until the process is
   * gone; SIGKILL after `timeoutMs`.
   */
  async stop(timeoutMs = 15_000): Promise<void> {
    const pid = this.pid;
    try {
      process.kill(pid, "SIGTERM");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ESRCH") return;
      throw err;
    }
    if (await waitUntil(async () => !alive(pid), timeoutMs)) return;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      return;
    }
    if (!(await waitUntil(async () => !alive(pid), 5_000))) {
      throw new ProxyError("proxy.stop_timeout", `proxy pid ${pid} did not exit after SIGKILL`);
    }
  }

  private call<T>(
    method: "GET" | "PUT" | "POST" | "DELETE",
    path: string,
    body?: unknown,
    extraMs = 0,
  ): Promise<T> {
    return controlRequest<T>({
      socketPath: this.socketPath,
      method,
      path,
      body,
      timeoutMs: REQUEST_TIMEOUT_MS + extraMs,
    });
  }
}
