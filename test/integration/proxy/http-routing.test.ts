import { Agent, request } from "node:http";
import { connect, createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProxyClient } from "../../../src/apps/proxy/index.js";
import { ProxyError } from "../../../src/apps/proxy/index.js";
import {
  answeredBy,
  backendSpec,
  freePort,
  httpRequest,
  patternByte,
  startBackend,
  startProxy,
  type TestBackend,
  tempDir,
  waitFor,
} from "./helpers.js";

describe("the HTTP proxy", () => {
  const dir = tempDir();
  let proxy: ProxyClient;
  const backends: TestBackend[] = [];
  let appCount = 0;

  /** A new app on a free port, served by the given backends. */
  async function route(list: readonly TestBackend[]): Promise<{ app: string; port: number }> {
    const app = `app${++appCount}`;
    const port = await freePort();
    await proxy.setRoute(app, { port, protocol: "http", backends: list.map(backendSpec) });
    return { app, port };
  }

  async function backend(id: string): Promise<TestBackend> {
    const b = await startBackend(id);
    backends.push(b);
    return b;
  }

  beforeAll(async () => {
    proxy = await startProxy(dir.path);
  });

  afterAll(async () => {
    await proxy?.stop(15_000);
    await Promise.all(backends.map((b) => b.close()));
    dir.remove();
  });

  it("balances requests over three backends", async () => {
    const list = [await backend("a"), await backend("b"), await backend("c")];
    const { port } = await route(list);
    const seen = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const answer = await httpRequest(port);
      expect(answer.status).toBe(200);
      seen.set(answeredBy(answer), (seen.get(answeredBy(answer)) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual(["a", "b", "c"]);
    for (const count of seen.values()) expect(count).toBeGreaterThanOrEqual(5);
  });

  it("forwards request bodies and methods untouched", async () => {
    const { port } = await route([await backend("echo")]);
    const answer = await httpRequest(port, {
      method: "POST",
      path: "/p?q=1",
      body: "x".repeat(100_000),
    });
    expect(JSON.parse(answer.body)).toEqual({
      id: "echo",
      method: "POST",
      url: "/p?q=1",
      body: "x".repeat(100_000),
    });
  });

  it("streams a large response intact to a client that reads slowly", async () => {
    const { port } = await route([await backend("big")]);
    const total = 8 * 1024 * 1024;
    const result = await new Promise<{ bytes: number; bad: number }>((res, rej) => {
      const req = request({ host: "127.0.0.1", port, path: `/big/${total}`, agent: false }, (r) => {
        let bytes = 0;
        let bad = -1;
        r.on("data", (chunk: Buffer) => {
          for (let i = 0; i < chunk.length && bad < 0; i++) {
            if (chunk[i] !== patternByte(bytes + i)) bad = bytes + i;
          }
          bytes += chunk.length;
          // Read slowly: the proxy's writes to this client back up and must not lose or
          // reorder bytes while it goes on reading from the backend.
          r.pause();
          setTimeout(() => r.resume(), 1);
        });
        r.on("end", () => res({ bytes, bad }));
        r.on("error", rej);
      });
      req.on("error", rej);
      req.end();
    });
    expect(result).toEqual({ bytes: total, bad: -1 });
  });

  it("moves a keep-alive client off a backend that left the pool, with no error", async () => {
    const a = await backend("keep-a");
    const b = await backend("keep-b");
    const { app, port } = await route([a, b]);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 10; i++) expect((await httpRequest(port, { agent })).status).toBe(200);
      await proxy.setRoute(app, { port, protocol: "http", backends: [backendSpec(b)] });
      const after = [];
      for (let i = 0; i < 20; i++) after.push(await httpRequest(port, { agent }));
      expect(after.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(after.map(answeredBy)).toEqual(Array(20).fill("keep-b"));
      // The client kept its one connection the whole time.
      expect(after.every((r) => r.reused)).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it("drains: waits for a slow in-flight request, then answers drained", async () => {
    const slow = await backend("slow");
    const other = await backend("other");
    const { app, port } = await route([slow]);
    const pending = httpRequest(port, { path: "/slow" });
    await waitFor(() => slow.slowPending === 1, "the slow request to reach the backend");
    await proxy.setRoute(app, { port, protocol: "http", backends: [backendSpec(other)] });
    let settled = false;
    const drain = proxy.drain(app, "slow", 10_000).finally(() => {
      settled = true;
    });
    const snapshot = await proxy.routes();
    const state = snapshot.routes.find((r) => r.app === app);
    expect(state?.draining).toMatchObject([{ id: "slow", inflight: 1 }]);
    expect(settled).toBe(false);
    // New requests already go to the other backend while the slow one drains.
    expect(answeredBy(await httpRequest(port))).toBe("other");
    slow.releaseSlow();
    expect(await drain).toEqual({ drained: true, inflight: 0 });
    expect((await pending).status).toBe(200);
  });

  it("drain answers drained:false when the timeout passes first", async () => {
    const slow = await backend("stuck");
    const { app, port } = await route([slow]);
    const pending = httpRequest(port, { path: "/slow" });
    await waitFor(() => slow.slowPending === 1, "the slow request to reach the backend");
    await proxy.setRoute(app, { port, protocol: "http", backends: [] });
    expect(await proxy.drain(app, "stuck", 200)).toEqual({ drained: false, inflight: 1 });
    slow.releaseSlow();
    expect((await pending).status).toBe(200);
  });

  it("retries a GET on another backend when one refuses connections", async () => {
    const alive = await backend("alive");
    const dead = await backend("dead");
    const { app, port } = await route([dead, alive]);
    await dead.close();
    for (let i = 0; i < 10; i++) {
      const answer = await httpRequest(port);
      expect(answer.status).toBe(200);
      expect(answeredBy(answer)).toBe("alive");
    }
    const snapshot = await proxy.routes();
    const state = snapshot.routes.find((r) => r.app === app);
    expect(state?.backends.find((b) => b.id === "dead")?.failures).toBeGreaterThan(0);
  });

  it("retries a POST too when the connect was refused: nothing reached the backend", async () => {
    const alive = await backend("alive-post");
    const dead = await backend("dead-post");
    const { port } = await route([dead, alive]);
    await dead.close();
    for (let i = 0; i < 4; i++) {
      const answer = await httpRequest(port, { method: "POST", body: "payload" });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ id: "alive-post", body: "payload" });
    }
  });

  it("holds a request until a backend becomes ready", async () => {
    const { app, port } = await route([]);
    const pending = httpRequest(port);
    const late = await backend("late");
    await proxy.setRoute(app, { port, protocol: "http", backends: [backendSpec(late)] });
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(answeredBy(answer)).toBe("late");
  });

  it("answers 503 with Connection: close when no backend becomes ready", async () => {
    const { port } = await route([]);
    const started = Date.now();
    const answer = await httpRequest(port);
    expect(answer.status).toBe(503);
    expect(answer.headers.connection).toBe("close");
    expect(answer.body).toContain("no ready backend");
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_500);
  });

  it("answers 400 to a malformed request and 431 to an oversized head", async () => {
    const { port } = await route([await backend("strict")]);
    const raw = (text: string) =>
      new Promise<string>((res, rej) => {
        const socket = connect(port, "127.0.0.1", () => socket.end(text));
        const chunks: Buffer[] = [];
        socket.on("data", (c: Buffer) => chunks.push(c));
        socket.on("error", rej);
        socket.on("close", () => res(Buffer.concat(chunks).toString("latin1")));
      });
    expect(await raw("GET / HTTP/1.1\r\nHost : x\r\n\r\n")).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(`GET / HTTP/1.1\r\nX: ${"a".repeat(70_000)}\r\n\r\n`)).toMatch(
      /^HTTP\/1\.1 431 /,
    );
  });

  it("serves pipelined requests in order on one connection", async () => {
    const { port } = await route([await backend("pipe")]);
    const text = await new Promise<string>((res, rej) => {
      const socket = connect(port, "127.0.0.1", () =>
        socket.write(
          "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ),
      );
      const chunks: Buffer[] = [];
      socket.on("data", (c: Buffer) => chunks.push(c));
      socket.on("error", rej);
      socket.on("close", () => res(Buffer.concat(chunks).toString("latin1")));
    });
    const urls = [...text.matchAll(/"url":"([^"]+)"/g)].map((m) => m[1]);
    expect(urls).toEqual(["/1", "/2", "/3"]);
  });

  it("switches to a raw tunnel after 101 Switching Protocols", async () => {
    const upgrader = await backend("upgrader");
    upgrader.server.on("upgrade", (_req, socket: import("node:net").Socket) => {
      socket.write(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n",
      );
      socket.pipe(socket);
    });
    const { port } = await route([upgrader]);
    const echoed = await new Promise<string>((res, rej) => {
      const socket = connect(port, "127.0.0.1", () =>
        socket.write("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n"),
      );
      let text = "";
      socket.on("data", (c: Buffer) => {
        text += c.toString("latin1");
        if (text.includes("\r\n\r\n") && !text.includes("ping")) socket.write("ping\u0000pong");
        if (text.endsWith("ping\u0000pong")) socket.end();
      });
      socket.on("error", rej);
      socket.on("close", () => res(text));
    });
    expect(echoed).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(echoed.endsWith("\r\n\r\nping\u0000pong")).toBe(true);
  });

  it("passes 100 Continue through before the request body", async () => {
    const { port } = await route([await backend("continue")]);
    const answer = await new Promise<{ continued: boolean; body: string }>((res, rej) => {
      let continued = false;
      const req = request(
        {
          host: "127.0.0.1",
          port,
          method: "POST",
          path: "/upload",
          agent: false,
          headers: { expect: "100-continue", "content-length": "5" },
        },
        (r) => {
          const chunks: Buffer[] = [];
          r.on("data", (c: Buffer) => chunks.push(c));
          r.on("end", () => res({ continued, body: Buffer.concat(chunks).toString() }));
        },
      );
      req.on("continue", () => {
        continued = true;
        req.end("hello");
      });
      req.on("error", rej);
    });
    expect(answer.continued).toBe(true);
    expect(JSON.parse(answer.body)).toMatchObject({ id: "continue", body: "hello" });
  });

  it("refuses a port another process holds with 409 proxy.port_in_use and keeps serving", async () => {
    const { app, port } = await route([await backend("stay")]);
    const blocker: Server = createServer();
    const taken = await freePort();
    await new Promise<void>((res) => blocker.listen(taken, "127.0.0.1", res));
    try {
      const error = await proxy
        .setRoute(app, { port: taken, protocol: "http", backends: [] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProxyError);
      expect(error).toMatchObject({
        code: "proxy.port_in_use",
        status: 409,
        message: `port ${taken} is already in use by another process`,
      });
      expect(answeredBy(await httpRequest(port))).toBe("stay");
    } finally {
      await new Promise((res) => blocker.close(res));
    }
  });

  it("moves an app to a new port when its route changes port", async () => {
    const { app, port } = await route([await backend("mover")]);
    const next = await freePort();
    await proxy.setRoute(app, {
      port: next,
      protocol: "http",
      backends: [backendSpec(backends.at(-1) as TestBackend)],
    });
    expect(answeredBy(await httpRequest(next))).toBe("mover");
    await expect(httpRequest(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("stops listening when a route is deleted", async () => {
    const { app, port } = await route([await backend("deleted")]);
    expect((await httpRequest(port)).status).toBe(200);
    await proxy.deleteRoute(app, 1_000);
    await expect(httpRequest(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    const snapshot = await proxy.routes();
    expect(snapshot.routes.map((r) => r.app)).not.toContain(app);
  });
});
