/**
 * One JSON request to the control socket. Used by the client, and by a starting proxy
 * to tell whether another live proxy already owns the socket.
 */
import { request } from "node:http";
import { isProxyErrorCode, ProxyError } from "./errors.js";

export interface ControlRequest {
  readonly socketPath: string;
  readonly method: "GET" | "PUT" | "POST" | "DELETE";
  readonly path: string;
  readonly body?: unknown;
  readonly timeoutMs: number;
}

export function controlRequest<T>(req: ControlRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    const payload = req.body === undefined ? null : Buffer.from(JSON.stringify(req.body));
    const r = request(
      {
        socketPath: req.socketPath,
        method: req.method,
        path: req.path,
        agent: false,
        headers: payload
          ? { "content-type": "application/json", "content-length": payload.length }
          : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString("utf8");
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            reject(
              new ProxyError(
                "proxy.internal",
                `proxy answered ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`,
              ),
            );
            return;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            resolve(body as T);
            return;
          }
          const error = (body as { error?: { code?: unknown; message?: unknown } }).error;
          reject(
            new ProxyError(
              isProxyErrorCode(error?.code) ? error.code : "proxy.internal",
              typeof error?.message === "string" ? error.message : `proxy answered ${status}`,
              status,
            ),
          );
        });
      },
    );
    const timer = setTimeout(() => {
      r.destroy(
        new ProxyError(
          "proxy.unreachable",
          `proxy did not answer ${req.method} ${req.path} within ${req.timeoutMs} ms`,
        ),
      );
    }, req.timeoutMs);
    r.on("error", (err) => {
      clearTimeout(timer);
      reject(
        err instanceof ProxyError
          ? err
          : new ProxyError(
              "proxy.unreachable",
              `cannot reach the proxy on ${req.socketPath}: ${err.message}`,
              0,
              { cause: err },
            ),
      );
    });
    r.end(payload ?? undefined);
  });
}

/** The pid of the proxy answering on `socketPath`, or undefined when none answers. */
export async function livePid(socketPath: string): Promise<number | undefined> {
  try {
    const health = await controlRequest<{ pid: number }>({
      socketPath,
      method: "GET",
      path: "/health",
      timeoutMs: 2_000,
    });
    return health.pid;
  } catch {
    return undefined;
  }
}
