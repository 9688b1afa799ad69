import { connect, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProxyClient } from "../../../src/apps/proxy/index.js";
import { freePort, startProxy, tempDir, waitFor } from "./helpers.js";

/** An echo server that closes its side when the client closes its own (half-close). */
async function echoServer(): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.pipe(socket);
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  return { server, port: address.port, sockets };
}

function exchange(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((res, rej) => {
    const socket = connect(port, "127.0.0.1", () => socket.end(payload));
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", rej);
    socket.on("end", () => res(Buffer.concat(chunks)));
  });
}

describe("the TCP proxy", () => {
  const dir = tempDir();
  let proxy: ProxyClient;
  const servers: Server[] = [];

  beforeAll(async () => {
    proxy = await startProxy(dir.path);
  });

  afterAll(async () => {
    await proxy?.stop(15_000);
    for (const s of servers) {
      s.close();
    }
    dir.remove();
  });

  it("echoes bytes through the proxy and forwards the half-close", async () => {
    const echo = await echoServer();
    servers.push(echo.server);
    const port = await freePort();
    await proxy.setRoute("echo", {
      port,
      protocol: "tcp",
      backends: [{ id: "e1", host: "127.0.0.1", port: echo.port }],
    });
    const payload = Buffer.alloc(1_000_000, 7);
    const back = await exchange(port, payload);
    expect(back.equals(payload)).toBe(true);
  });

  it("tries the next backend when a connect is refused", async () => {
    const echo = await echoServer();
    servers.push(echo.server);
    const dead = await freePort();
    const port = await freePort();
    await proxy.setRoute("echo-retry", {
      port,
      protocol: "tcp",
      backends: [
        { id: "dead", host: "127.0.0.1", port: dead },
        { id: "live", host: "127.0.0.1", port: echo.port },
      ],
    });
    for (let i = 0; i < 5; i++) {
      expect((await exchange(port, Buffer.from(`ping ${i}`))).toString()).toBe(`ping ${i}`);
    }
  });

  it("drains: counts open connections of a backend that left the pool", async () => {
    const echo = await echoServer();
    servers.push(echo.server);
    const port = await freePort();
    const spec = { id: "d1", host: "127.0.0.1", port: echo.port };
    await proxy.setRoute("echo-drain", { port, protocol: "tcp", backends: [spec] });
    const socket = connect(port, "127.0.0.1");
    await new Promise<void>((res) => socket.once("connect", () => res()));
    await waitFor(() => echo.sockets.size === 1, "the connection to reach the backend");
    await proxy.setRoute("echo-drain", { port, protocol: "tcp", backends: [] });
    expect(await proxy.drain("echo-drain", "d1", 100)).toEqual({ drained: false, inflight: 1 });
    const drain = proxy.drain("echo-drain", "d1", 10_000);
    socket.end();
    expect(await drain).toEqual({ drained: true, inflight: 0 });
  });
});
