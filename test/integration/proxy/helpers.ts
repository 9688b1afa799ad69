/**
 * What the proxy's integration tests start: a real proxy process (built to dist/) in a
 * temporary state directory, real backends on 127.0.0.1, and plain HTTP clients.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { type Agent, createServer, type IncomingMessage, request, type Server } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ProxyClient } from "../../../src/apps/proxy/index.js";

export const PROXY_ENTRY = resolve(import.meta.dirname, "../../../dist/apps/proxy/main.js");

export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), "baton-proxy-"));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function startProxy(stateDir: string): Promise<ProxyClient> {
  return ProxyClient.ensure(stateDir, { entry: PROXY_ENTRY });
}

/** A port the OS says is free now. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createNetServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => res(port));
    });
  });
}

/** Waits until `condition` holds, checking every few ms; fails at the deadline. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface TestBackend {
  readonly id: string;
  readonly port: number;
  readonly server: Server;
  /** Requests received so far. */
  hits: number;
  /** Requests to /slow wait until this is called. */
  releaseSlow(): void;
  /** Requests to /slow received and not answered yet. */
  slowPending: number;
  close(): Promise<void>;
}

/** An HTTP backend that answers its id; /slow answers only once released. */
export async function startBackend(id: string): Promise<TestBackend> {
  const held: Array<() => void> = [];
  const backend: TestBackend = {
    id,
    port: 0,
    server: createServer((req, res) => {
      backend.hits++;
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const answer = (): void => {
          const body = JSON.stringify({
            id,
            method: req.method,
            url: req.url,
            body: Buffer.concat(chunks).toString("utf8"),
          });
          res.writeHead(200, { "content-type": "application/json" });
          res.end(body);
        };
        const big = /^\/big\/(\d+)$/.exec(req.url ?? "");
        if (big !== null) {
          // A large chunked response with a checkable pattern: byte i is i % 251.
          res.writeHead(200, { "content-type": "application/octet-stream" });
          streamPattern(res, Number(big[1]));
          return;
        }
        if (req.url === "/slow") {
          backend.slowPending++;
          held.push(() => {
            backend.slowPending--;
            answer();
          });
        } else {
          answer();
        }
      });
    }),
    hits: 0,
    slowPending: 0,
    releaseSlow: () => {
      for (const h of held.splice(0)) h();
    },
    close: () =>
      new Promise((res) => {
        backend.releaseSlow();
        backend.server.closeAllConnections();
        backend.server.close(() => res());
      }),
  };
  await new Promise<void>((res) => backend.server.listen(0, "127.0.0.1", res));
  (backend as { port: number }).port = (backend.server.address() as AddressInfo).port;
  return backend;
}

/** Byte i of a pattern body; a stale or reused buffer shows up as a wrong byte. */
export function patternByte(i: number): number {
  return i % 251;
}

function streamPattern(res: import("node:http").ServerResponse, total: number): void {
  let sent = 0;
  const step = (): void => {
    while (sent < total) {
      const n = Math.min(65_536, total - sent);
      const chunk = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) chunk[i] = patternByte(sent + i);
      sent += n;
      if (!res.write(chunk)) {
        res.once("drain", step);
        return;
      }
    }
    res.end();
  };
  step();
}

export function backendSpec(b: Pick<TestBackend, "id" | "port">) {
  return { id: b.id, host: "127.0.0.1", port: b.port };
}

export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly reused: boolean;
  readonly headers: IncomingMessage["headers"];
}

/** One request; a fresh connection unless an agent is given. */
export function httpRequest(
  port: number,
  opts: { path?: string; method?: string; body?: string; agent?: Agent } = {},
): Promise<Answer> {
  return new Promise((res, rej) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: opts.path ?? "/",
        method: opts.method ?? "GET",
        agent: opts.agent ?? false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (c: Buffer) => chunks.push(c));
        response.on("error", rej);
        response.on("end", () =>
          res({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            reused: req.reusedSocket,
            headers: response.headers,
          }),
        );
      },
    );
    req.on("error", rej);
    req.end(opts.body);
  });
}

/** The backend id a response of startBackend names. */
export function answeredBy(answer: Answer): string {
  return (JSON.parse(answer.body) as { id: string }).id;
}
