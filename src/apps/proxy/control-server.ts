/**
 * The control API: HTTP/1.1 + JSON over the unix socket `DIR/proxy.sock`. Only the
 * controller (or an operator) talks to it; it is not on the data path.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { JsonBodyError, readJsonBody, sendJson } from "../../util/json-http.js";
import { isProxyErrorCode, ProxyError } from "./errors.js";
import {
  type HealthStatus,
  type ProxyStats,
  parseDrainRequest,
  parseRouteSpec,
  type RoutesSnapshot,
} from "./protocol.js";
import type { Log, RouteTable } from "./route-table.js";

const MAX_BODY_BYTES = 4 * 1024 * 1024;

async function readJson(req: IncomingMessage): Promise<unknown> {
  try {
    return await readJsonBody(req, MAX_BODY_BYTES);
  } catch (error) {
    if (error instanceof JsonBodyError) {
      throw new ProxyError("proxy.invalid_request", error.message, error.status);
    }
    throw error;
  }
}

const send = sendJson;

function timeoutParam(url: URL, fallback: number): number {
  const raw = url.searchParams.get("timeoutMs");
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 3_600_000) {
    throw new ProxyError(
      "proxy.invalid_request",
      `timeoutMs must be a whole number of milliseconds, found ${JSON.stringify(raw)}`,
      400,
    );
  }
  return value;
}

export function createControlServer(table: RouteTable, log: Log): Server {
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://proxy");
    const parts = url.pathname
      .split("/")
      .filter((p) => p !== "")
      .map(decodeURIComponent);
    const method = req.method ?? "GET";
    if (method === "GET" && url.pathname === "/health") {
      const body: HealthStatus = { ok: true, pid: process.pid };
      send(res, 200, body);
      return;
    }
    if (method === "GET" && url.pathname === "/stats") {
      const body: ProxyStats = table.stats();
      send(res, 200, body);
      return;
    }
    if (parts[0] === "routes") {
      if (parts.length === 1 && method === "GET") {
        const body: RoutesSnapshot = { pid: process.pid, routes: table.snapshot() };
        send(res, 200, body);
        return;
      }
      const app = parts[1];
      if (app !== undefined && parts.length === 2) {
        if (method === "PUT") {
          const spec = parseRouteSpec(await readJson(req));
          send(res, 200, await table.setRoute(app, spec));
          return;
        }
        if (method === "DELETE") {
          send(res, 200, await table.deleteRoute(app, timeoutParam(url, 10_000)));
          return;
        }
      }
      if (app !== undefined && parts.length === 3 && parts[2] === "drain" && method === "POST") {
        const { id, timeoutMs } = parseDrainRequest(await readJson(req));
        send(res, 200, await table.drain(app, id, timeoutMs));
        return;
      }
    }
    throw new ProxyError("proxy.not_found", `no such endpoint: ${method} ${url.pathname}`, 404);
  };

  return createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (err instanceof ProxyError && isProxyErrorCode(err.code)) {
        send(res, err.status, { error: err.toJSON() });
        return;
      }
      // Anything else is a bug of the proxy: say so, and keep serving the data plane.
      log(`control: ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
      send(res, 500, { error: { code: "proxy.internal", message: String(err) } });
    });
  });
}
