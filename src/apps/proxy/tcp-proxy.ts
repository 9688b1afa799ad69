/**
 * The listener of a TCP route: each client connection is piped to one backend for its
 * whole life. The client is not read until the backend connection is up, so a refused
 * connect is retried on another backend with nothing lost.
 */
import { connect, createServer, type Socket } from "node:net";
import type { Backend } from "./backend.js";
import {
  admitted,
  bindServer,
  type ClientSession,
  type Listener,
  type ListenerContext,
  SessionListener,
  SessionSet,
} from "./listener.js";
import { ReadBuffer } from "./read-buffer.js";
import type { Route } from "./route.js";
import type { RouteStats } from "./route-stats.js";

/** How long a new connection waits for a ready backend before it is closed. */
export const TCP_WAIT_FOR_BACKEND_MS = 5_000;

class TcpSession implements ClientSession {
  private upstream: Socket | null = null;
  private failed: Backend[] | null = null;
  private cancelWait: (() => void) | null = null;
  private closed = false;
  private readonly deadline = Date.now() + TCP_WAIT_FOR_BACKEND_MS;
  /** The route's counters; null when metrics are off. */
  private readonly stats: RouteStats | null;

  constructor(
    private readonly client: Socket,
    private readonly route: Route,
    private readonly onClosed: (s: TcpSession) => void,
  ) {
    const stats = route.stats;
    this.stats = stats;
    if (stats !== null) {
      stats.openConnections++;
      stats.connectionsTotal++;
    }
    client.on("error", () => {
      // 'close' follows.
    });
    client.on("close", () => this.onClientClose());
    this.connectNext();
  }

  closeIdle(): void {
    // A TCP stream has no request boundary to wait for: it ends when its peers end it.
  }

  sweep(): void {
    // Idle TCP streams are legitimate (databases, websockets): no idle timeout.
  }

  destroy(): void {
    this.client.destroy();
  }

  private connectNext(): void {
    if (this.closed) return;
    const now = Date.now();
    const backend = this.route.closed ? null : this.route.pick(this.failed, now);
    if (backend === null) {
      if (this.route.closed || now >= this.deadline) {
        this.client.destroy();
        return;
      }
      this.cancelWait = this.route.waitForChange(() => {
        this.cancelWait = null;
        this.failed = null;
        this.connectNext();
      }, this.deadline - now);
      return;
    }
    backend.begin();
    backend.connections++;
    const client = this.client;
    const stats = this.stats;
    const readBuffer = new ReadBuffer();
    const upstream = connect({
      host: backend.host,
      port: backend.port,
      noDelay: true,
      allowHalfOpen: true,
      onread: {
        buffer: readBuffer.next,
        callback: (nread: number, buffer: Uint8Array): boolean => {
          if (stats !== null) stats.bytesOut += nread;
          const ok = client.write((buffer as Buffer).subarray(0, nread));
          if (client.writableLength > 0) readBuffer.held = true;
          // false stops reading until the client drains.
          return ok;
        },
      },
    });
    this.upstream = upstream;
    let connected = false;
    upstream.on("error", () => {
      // 'close' follows.
    });
    upstream.once("connect", () => {
      connected = true;
      if (this.closed) {
        upstream.destroy();
        return;
      }
      // Client to backend: 'data' events, paused while the backend's buffer is full.
      // Backend to client: the onread callback above. A FIN is forwarded as end() both
      // ways, so half-closed protocols work.
      client.on("data", (chunk: Buffer) => {
        if (stats !== null) stats.bytesIn += chunk.length;
        if (!upstream.write(chunk)) client.pause();
      });
      upstream.on("drain", () => client.resume());
      client.on("end", () => upstream.end());
      client.on("drain", () => upstream.resume());
      upstream.on("end", () => client.end());
      client.resume();
    });
    upstream.on("close", () => {
      backend.connections--;
      backend.end();
      if (this.upstream === upstream) this.upstream = null;
      if (!connected && !this.closed) {
        // Refused before a byte was read from the client: try another backend.
        backend.failed(Date.now());
        this.failed = this.failed === null ? [backend] : [...this.failed, backend];
        this.connectNext();
        return;
      }
      // The backend is gone: whatever it sent is already written to the client.
      if (!this.client.writableEnded) this.client.end();
      if (!this.client.destroyed && this.client.readableEnded) this.client.destroy();
    });
  }

  private onClientClose(): void {
    this.closed = true;
    if (this.stats !== null) this.stats.openConnections--;
    if (this.cancelWait !== null) {
      this.cancelWait();
      this.cancelWait = null;
    }
    // The client is fully closed: nothing more can be delivered either way.
    this.upstream?.destroy();
    this.onClosed(this);
  }
}

/** Opens the listener of a TCP route on host:port. */
export async function openTcpListener(
  route: Route,
  host: string,
  port: number,
  context: ListenerContext,
): Promise<Listener> {
  const sessions = new SessionSet<TcpSession>(context.limits);
  const onClosed = (s: TcpSession): void => sessions.delete(s);
  const server = createServer(
    { allowHalfOpen: true, noDelay: true, pauseOnConnect: true },
    (socket: Socket) => {
      // A TCP protocol has no refusal of its own to send: the connection is closed.
      if (!admitted(context, socket)) return;
      sessions.add(new TcpSession(socket, route, onClosed));
    },
  );
  await bindServer(server, host, port);
  return new SessionListener("tcp", server, sessions, host, port);
}
