/**
 * Issue 19: the head timeout was an idle timer reset by every byte (a client sending a byte
 * every 20 s held a head for 81 s) and nothing capped connections. The proxy now cuts a head
 * at an absolute deadline from its first byte and caps open connections per client address
 * and in all. A real proxy process with short limits, real sockets from several loopback
 * addresses.
 */
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProxyClient } from "../../../src/apps/proxy/index.js";
import {
  backendSpec,
  freePort,
  PROXY_ENTRY,
  startBackend,
  type TestBackend,
  tempDir,
  waitFor,
} from "./helpers.js";

const HEAD_DEADLINE_MS = 800;
const PER_CLIENT = 3;
const TOTAL = 5;

/** A raw client connection from `from`, with what it has received and whether it closed. */
interface RawClient {
  readonly socket: Socket;
  received: string;
  closed: boolean;
  closedAt: number;
}

function open(port: number, from: string): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, localAddress: from });
    const client: RawClient = { socket, received: "", closed: false, closedAt: 0 };
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => {
      client.received += text;
    });
    socket.on("close", () => {
      client.closed = true;
      client.closedAt = Date.now();
    });
    socket.once("error", (error) => {
      if (!client.closed) client.received += `\n[${(error as NodeJS.ErrnoException).code}]`;
    });
    socket.once("connect", () => resolve(client));
    socket.once("error", reject);
  });
}

/** One keep-alive GET on `client`, answered in full (the backend's body ends its JSON with `}`). */
async function get(client: RawClient): Promise<string> {
  const before = client.received.length;
  client.socket.write("GET / HTTP/1.1\r\nhost: x\r\n\r\n");
  await waitFor(
    () => client.closed || /}(\r\n0\r\n\r\n)?$/.test(client.received.slice(before)),
    "an answer on a served connection",
  );
  return client.received.slice(before);
}

describe("the proxy's limits", () => {
  const dir = tempDir();
  let proxy: ProxyClient;
  let backend: TestBackend;
  let port: number;
  const clients: RawClient[] = [];

  async function client(from: string): Promise<RawClient> {
    const c = await open(port, from);
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    proxy = await ProxyClient.ensure(dir.path, {
      entry: PROXY_ENTRY,
      limits: {
        headTimeoutMs: HEAD_DEADLINE_MS,
        maxConnectionsPerClient: PER_CLIENT,
        maxConnections: TOTAL,
      },
    });
    backend = await startBackend("a");
    port = await freePort();
    await proxy.setRoute("web", { port, protocol: "http", backends: [backendSpec(backend)] });
  });

  afterAll(async () => {
    for (const c of clients) c.socket.destroy();
    await proxy?.stop(15_000);
    await backend?.close();
    dir.remove();
  });

  it("cuts a head that trickles in at its deadline, counted from its first byte", async () => {
    const slow = await client("127.0.0.1");
    const started = Date.now();
    slow.socket.write("GET / HTTP/1.1\r\n");
    // A byte well within every idle timeout, again and again: the head never completes.
    const trickle = setInterval(() => {
      if (!slow.closed) slow.socket.write("x");
    }, HEAD_DEADLINE_MS / 8);
    try {
      await waitFor(() => slow.closed, "the proxy to close the slow client", 10_000);
    } finally {
      clearInterval(trickle);
    }
    expect(slow.received).toMatch(/^HTTP\/1\.1 408 /);
    const held = slow.closedAt - started;
    expect(held).toBeGreaterThanOrEqual(HEAD_DEADLINE_MS);
    // Sweeps come four times a deadline: at most a quarter late, plus a scheduling margin.
    expect(held).toBeLessThan(HEAD_DEADLINE_MS * 2);
  });

  it("refuses connection N+1 from one address while other addresses are served", async () => {
    const first = [];
    for (let i = 0; i < PER_CLIENT; i++) {
      const c = await client("127.0.0.1");
      expect(await get(c)).toMatch(/^HTTP\/1\.1 200 /);
      first.push(c);
    }
    const over = await client("127.0.0.1");
    await waitFor(() => over.closed, "the connection over the cap to be closed");
    expect(over.received).toMatch(/^HTTP\/1\.1 503 /);
    expect(over.received).toContain("too many connections");

    // Another address is served meanwhile, up to the proxy's cap over all addresses.
    const other = await client("127.0.0.2");
    expect(await get(other)).toMatch(/^HTTP\/1\.1 200 /);
    const third = await client("127.0.0.3");
    expect(await get(third)).toMatch(/^HTTP\/1\.1 200 /);
    const beyondTotal = await client("127.0.0.4");
    await waitFor(() => beyondTotal.closed, "the connection over the total cap to be closed");
    expect(beyondTotal.received).toMatch(/^HTTP\/1\.1 503 /);

    // A closed connection frees its place: the first address is served again.
    first[0]!.socket.destroy();
    await waitFor(async () => {
      const again = await client("127.0.0.1");
      const answer = await get(again);
      if (answer.startsWith("HTTP/1.1 200 ")) return true;
      again.socket.destroy();
      return false;
    }, "a place from the first address again");
  });
});
