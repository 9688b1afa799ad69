import { request } from "node:http";

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

/** One GET on 127.0.0.1 with a fresh connection. */
export function get(port: number, path = "/", timeoutMs = 5_000): Promise<HttpAnswer> {
  return getAt("127.0.0.1", port, path, timeoutMs);
}

/** One GET on `host` with a fresh connection (a replica a scheduler placed on a node). */
export function getAt(
  host: string,
  port: number,
  path = "/",
  timeoutMs = 5_000,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on("error", reject);
    req.end();
  });
}
