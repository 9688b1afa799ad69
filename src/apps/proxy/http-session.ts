/**
 * One client connection of an HTTP route.
 *
 * Bytes are forwarded as they arrive, never re-serialised; the request framer finds the
 * request boundaries and the response framer (on the upstream) the response boundaries.
 * Each request picks a backend from the route's pool, so a keep-alive client moves off a
 * backend that left the pool at its next request and never notices. Requests are handled
 * one at a time per client connection: pipelined requests wait (the socket is paused)
 * until the response before them is complete.
 *
 * Until the first response byte arrives, the bytes of the request are kept (up to
 * MAX_REPLAY_BYTES) so a refused connect, or a reset before any answer for an idempotent
 * method, is replayed on another backend without the client seeing it.
 *
 * Headers are forwarded untouched: no X-Forwarded-For / Forwarded is added in this
 * version, so backends see the proxy's address as the peer.
 */
import type { Socket } from "node:net";
import type { Backend } from "./backend.js";
import {
  type FramingError,
  HEAD_COMPLETE,
  HttpFramer,
  MESSAGE_COMPLETE,
  type MessageHead,
} from "./framing.js";
import type { ClientSession, SweepClock } from "./listener.js";
import type { Route } from "./route.js";
import { CLIENT_CLOSED_REQUEST, type RouteStats } from "./route-stats.js";
import { Upstream, type UpstreamOwner } from "./upstream.js";

/** Request bytes kept for a replay; a larger request is sent once and never retried. */
export const MAX_REPLAY_BYTES = 64 * 1024;
/** How long a request waits for a ready backend before the client gets a 503. */
export const WAIT_FOR_BACKEND_MS = 5_000;

/**
 * Replays of one request after a backend accepted it and failed without answering: a
 * backend that resets every connection must not keep a request bouncing forever. Refused
 * connects are bounded by the wait deadline instead.
 */
const MAX_ATTEMPTS = 4;
/** Methods that may be sent again after a backend failed without answering. */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);

const P_IDLE = 0; // between requests
const P_HEAD = 1; // receiving a request head
const P_WAIT = 2; // head complete, waiting for a ready backend
const P_EXCHANGE = 3; // request sent (or being sent) to a backend, response pending
const P_TUNNEL = 4; // after 101 / CONNECT 2xx: raw bytes both ways
const P_CLOSED = 5;

// Reasons the client socket is paused; it reads again when none is left.
const PAUSE_PIPELINE = 1; // bytes of a next request wait for the current response
const PAUSE_UPSTREAM = 2; // the upstream's write buffer is full

function plainResponse(status: string, text: string): Buffer {
  const body = `${text}\n`;
  return Buffer.from(
    `HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    "latin1",
  );
}

const RESPONSE_400 = plainResponse("400 Bad Request", "bad request");
const RESPONSE_431 = plainResponse("431 Request Header Fields Too Large", "request head too large");
const RESPONSE_408 = plainResponse("408 Request Timeout", "request head not received in time");
const RESPONSE_502 = plainResponse("502 Bad Gateway", "the backend failed to answer");

export class HttpSession implements UpstreamOwner, ClientSession {
  private phase = P_IDLE;
  private readonly parser = new HttpFramer("request");
  private up: Upstream | null = null;
  /** Head of the request in progress. */
  private head: MessageHead | null = null;
  private responseHead: MessageHead | null = null;
  private requestDone = false;
  private responseStarted = false;
  /** Request bytes kept for a replay; null once too large or once the answer began. */
  private replay: Buffer[] | null = null;
  private replayBytes = 0;
  /** Client bytes received but not processed yet (pipelined request, waiting). */
  private pending: Buffer | null = null;
  private pauses = 0;
  private upstreamPaused = false;
  /** Backends whose connect failed for the current request. */
  private failed: Backend<Upstream>[] | null = null;
  private deadline = 0;
  private attempts = 0;
  private cancelWait: (() => void) | null = null;
  private clientEnded = false;
  private closing = false;
  /** Clock tick of the last client activity. */
  private activeTick: number;
  /**
   * Clock tick of the current request's first byte: the head deadline counts from it, not
   * from the last byte, or a client sending a byte now and then holds a head for good.
   */
  private headTick = 0;
  /** The route's counters, held here so counting is a field access; null: metrics off. */
  private readonly stats: RouteStats | null;
  /** performance.now() at the current request's first byte; -1 when none is to be counted. */
  private requestStart = -1;

  constructor(
    private readonly client: Socket,
    private readonly route: Route<Upstream>,
    private readonly clock: SweepClock,
    private readonly onClosed: (session: HttpSession) => void,
  ) {
    this.activeTick = clock.tick;
    const stats = route.stats;
    this.stats = stats;
    if (stats !== null) {
      stats.openConnections++;
      stats.connectionsTotal++;
    }
    client.on("data", (chunk: Buffer) => this.onClientData(chunk));
    client.on("drain", () => this.onClientDrain());
    client.on("end", () => this.onClientEnd());
    client.on("error", () => {
      // 'close' follows and cleans up; a client reset is not the proxy's concern.
    });
    client.on("close", () => this.onClientClose());
  }

  closeIdle(): void {
    this.closing = true;
    if (this.phase === P_IDLE) this.endClient();
  }

  destroy(): void {
    this.client.destroy();
  }

  sweep(tick: number): void {
    const clock = this.clock;
    if (this.phase === P_IDLE && tick - this.activeTick >= clock.idleTicks) this.endClient();
    else if (
      this.phase === P_HEAD &&
      this.head === null &&
      tick - this.headTick >= clock.headTicks
    ) {
      this.respond(RESPONSE_408, 408);
    }
  }

  // ---- client side -------------------------------------------------------------------

  private onClientData(chunk: Buffer): void {
    this.activeTick = this.clock.tick;
    if (this.stats !== null) this.stats.bytesIn += chunk.length;
    switch (this.phase) {
      case P_TUNNEL:
        if (!(this.up as Upstream).socket.write(chunk)) this.pauseClient(PAUSE_UPSTREAM);
        return;
      case P_CLOSED:
        return;
    }
    if (this.pending !== null) {
      // Already waiting: a paused socket may still deliver what it had read.
      this.pending = Buffer.concat([this.pending, chunk]);
      return;
    }
    this.feed(chunk, 0);
  }

  /**
   * Runs the request framer over `chunk` from `start` and forwards what it frames. Bytes
   * are forwarded in as few writes as possible: a head and the body bytes that follow it
   * in the same chunk leave in one write, after the backend is chosen.
   */
  private feed(chunk: Buffer, start: number): void {
    const parser = this.parser;
    const len = chunk.length;
    let pos = start;
    const from = start;
    while (pos < len) {
      if (this.requestDone || this.phase === P_WAIT || this.phase >= P_TUNNEL) {
        this.forward(chunk, from, pos);
        if (this.phase !== P_CLOSED && pos < len) this.stash(chunk, pos);
        return;
      }
      const n = parser.execute(chunk, pos);
      if (parser.error !== null) {
        this.reject(parser.error);
        return;
      }
      pos += n;
      const events = parser.events;
      if (this.phase === P_IDLE) {
        this.phase = P_HEAD;
        this.headTick = this.clock.tick;
        this.replay = [];
        this.replayBytes = 0;
        if (this.stats !== null) this.requestStart = performance.now();
      }
      if ((events & HEAD_COMPLETE) !== 0) {
        this.head = parser.head;
        this.deadline = Date.now() + WAIT_FOR_BACKEND_MS;
        this.failed = null;
        this.attempts = 0;
      }
      if ((events & MESSAGE_COMPLETE) !== 0) this.requestDone = true;
    }
    this.forward(chunk, from, pos);
  }

  /** Sends chunk[from, to) of the current request, choosing the backend first if due. */
  private forward(chunk: Buffer, from: number, to: number): void {
    if (to <= from || this.phase === P_CLOSED) return;
    const n = to - from;
    const slice = from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to);
    const up = this.up;
    if (up === null) {
      // Not sent anywhere yet: keep it, and send it all once the head is complete.
      (this.replay as Buffer[]).push(slice);
      this.replayBytes += n;
      if (this.phase === P_HEAD && this.head !== null) this.dispatch();
      return;
    }
    if (this.replay !== null) {
      if (this.replayBytes + n <= MAX_REPLAY_BYTES) {
        this.replay.push(slice);
        this.replayBytes += n;
      } else {
        this.replay = null;
      }
    }
    if (!up.socket.write(slice)) this.pauseClient(PAUSE_UPSTREAM);
  }

  private stash(chunk: Buffer, pos: number): void {
    const rest = pos === 0 ? chunk : chunk.subarray(pos);
    this.pending = this.pending === null ? rest : Buffer.concat([this.pending, rest]);
    this.pauseClient(PAUSE_PIPELINE);
  }

  /** Continues with client bytes that waited. */
  private resumePending(): void {
    const pending = this.pending;
    this.pending = null;
    this.resumeClient(PAUSE_PIPELINE);
    if (pending !== null) this.feed(pending, 0);
  }

  private onClientDrain(): void {
    if (this.upstreamPaused && this.up !== null) {
      this.upstreamPaused = false;
      this.up.socket.resume();
    }
  }

  private onClientEnd(): void {
    this.clientEnded = true;
    switch (this.phase) {
      case P_TUNNEL:
        (this.up as Upstream).socket.end();
        return;
      case P_IDLE:
      case P_HEAD:
        this.endClient();
        return;
      case P_EXCHANGE:
        // A request cut short can never complete: nothing useful can be answered.
        if (!this.requestDone) this.client.destroy();
        return;
    }
  }

  private onClientClose(): void {
    const stats = this.stats;
    if (stats !== null) {
      stats.openConnections--;
      // A request begun (head complete) and not answered in full: the client gave up.
      if (this.head !== null) this.countResponse(CLIENT_CLOSED_REQUEST);
    }
    this.phase = P_CLOSED;
    if (this.cancelWait !== null) {
      this.cancelWait();
      this.cancelWait = null;
    }
    const up = this.up;
    if (up !== null) {
      this.up = null;
      up.destroy();
      up.backend.end();
    }
    this.pending = null;
    this.replay = null;
    this.onClosed(this);
  }

  // ---- choosing a backend ------------------------------------------------------------

  /** Sends the current request (its kept bytes) to a backend, or waits for one. */
  private dispatch(): void {
    const now = Date.now();
    const backend = this.route.closed ? null : this.route.pick(this.failed, now);
    if (backend === null) {
      if (this.route.closed || now >= this.deadline) {
        this.respond(
          plainResponse("503 Service Unavailable", `no ready backend for ${this.route.app}`),
          503,
        );
        return;
      }
      // No ready backend (or all refused): wait for the pool to change, so a restart of
      // the only replica costs the client latency, not an error.
      this.phase = P_WAIT;
      this.cancelWait = this.route.waitForChange(() => {
        this.cancelWait = null;
        if (this.phase !== P_WAIT) return;
        this.failed = null;
        this.dispatch();
      }, this.deadline - now);
      return;
    }
    const wasWaiting = this.phase === P_WAIT;
    this.phase = P_EXCHANGE;
    const up = backend.takeIdle(now) ?? new Upstream(backend);
    up.owner = this;
    this.up = up;
    backend.begin();
    up.parser.expectResponseTo((this.head as MessageHead).method);
    const replay = this.replay as Buffer[];
    let ok: boolean;
    if (replay.length === 1) {
      ok = up.socket.write(replay[0] as Buffer);
    } else {
      up.socket.cork();
      for (const b of replay) up.socket.write(b);
      up.socket.uncork();
      ok = up.socket.writableLength < up.socket.writableHighWaterMark;
    }
    if (!ok) this.pauseClient(PAUSE_UPSTREAM);
    // A request larger than the replay bound is sent once, never replayed.
    if (this.replayBytes > MAX_REPLAY_BYTES) this.replay = null;
    if (wasWaiting && this.pending !== null) this.resumePending();
  }

  // ---- upstream side -----------------------------------------------------------------

  onUpstreamData(up: Upstream, chunk: Buffer): void {
    if (this.phase === P_TUNNEL) {
      this.writeClient(up, chunk, 0, chunk.length);
      return;
    }
    if (up !== this.up || this.phase !== P_EXCHANGE) {
      up.destroy();
      return;
    }
    if (!this.responseStarted) {
      this.responseStarted = true;
      this.replay = null;
    }
    const parser = up.parser;
    const len = chunk.length;
    let pos = 0;
    // Everything of this chunk up to `pos` goes to the client in one write, at the end of
    // the response or of the chunk, so a head and its body never cost two syscalls.
    while (pos < len) {
      const n = parser.execute(chunk, pos);
      if (parser.error !== null) {
        this.badResponse(up, chunk, 0, pos);
        return;
      }
      pos += n;
      const events = parser.events;
      if ((events & HEAD_COMPLETE) !== 0) this.responseHead = parser.head;
      if ((events & MESSAGE_COMPLETE) !== 0) {
        if (parser.tunnel) {
          this.writeClient(up, chunk, 0, pos);
          this.startTunnel(up, chunk, pos);
          return;
        }
        // 1xx (100 Continue...) is interim: the final response follows on this connection.
        if ((this.responseHead as MessageHead).status >= 200) {
          this.writeClient(up, chunk, 0, pos);
          this.exchangeDone(up, pos < len);
          return;
        }
      }
    }
    this.writeClient(up, chunk, 0, pos);
  }

  /** Writes response bytes chunk[from, to) to the client, one write for the lot. */
  private writeClient(up: Upstream, chunk: Buffer, from: number, to: number): void {
    if (to <= from) return;
    const slice = from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to);
    const client = this.client;
    if (this.stats !== null) this.stats.bytesOut += to - from;
    if (!client.write(slice)) this.pauseUpstream(up);
    // Still queued: the socket holds the upstream's read buffer, which must not be reused.
    if (client.writableLength > 0) up.readBuffer.held = true;
  }

  onUpstreamDrain(): void {
    this.resumeClient(PAUSE_UPSTREAM);
  }

  onUpstreamEnd(up: Upstream): void {
    if (this.phase === P_TUNNEL) {
      this.client.end();
      return;
    }
    // A body delimited by the close ends here.
    if (up.parser.finish()) {
      this.exchangeDone(up, true);
      return;
    }
    this.upstreamFailed(up);
  }

  onUpstreamClose(up: Upstream): void {
    if (this.phase === P_TUNNEL) {
      this.up = null;
      up.backend.end();
      this.client.destroy();
      return;
    }
    this.upstreamFailed(up);
  }

  private pauseUpstream(up: Upstream): void {
    if (!this.upstreamPaused) {
      this.upstreamPaused = true;
      up.socket.pause();
    }
  }

  /** The backend closed or reset the connection before the response was complete. */
  private upstreamFailed(up: Upstream): void {
    if (up !== this.up) {
      up.destroy();
      return;
    }
    this.up = null;
    this.upstreamPaused = false;
    up.destroy();
    const backend = up.backend;
    backend.end();
    if (this.phase !== P_EXCHANGE) return;
    if (this.responseStarted) {
      // Part of the response reached the client: a cut is all that can be said.
      this.countResponse(this.responseHead?.status ?? 502);
      this.client.destroy();
      return;
    }
    const now = Date.now();
    if (!up.connected) {
      // Nothing reached the backend: always safe to try another one.
      backend.failed(now);
      this.failed = this.failed === null ? [backend] : [...this.failed, backend];
    } else {
      backend.failures++;
      this.attempts++;
      // Closed without an answer: a retry goes to another backend. Behind a forwarder that
      // accepts for a stopped backend (Docker's userland proxy for a Swarm task being
      // replaced), this is how a refused connection looks.
      this.failed = this.failed === null ? [backend] : [...this.failed, backend];
    }
    const method = (this.head as MessageHead).method;
    if (
      this.replay !== null &&
      (!up.connected || (IDEMPOTENT.has(method) && this.attempts < MAX_ATTEMPTS))
    ) {
      this.resumeClient(PAUSE_UPSTREAM);
      this.dispatch();
      return;
    }
    this.respond(RESPONSE_502, 502);
  }

  private badResponse(up: Upstream, chunk: Buffer, from: number, to: number): void {
    // What was valid before the error still goes out: the client may make sense of it.
    this.writeClient(up, chunk, from, to);
    this.up = null;
    up.destroy();
    up.backend.end();
    up.backend.failures++;
    if (this.responseHead === null && to === 0) this.respond(RESPONSE_502, 502);
    else {
      this.countResponse(this.responseHead?.status ?? 502);
      this.client.destroy();
    }
  }

  /** The final response is complete: release the upstream and go on with the client. */
  private exchangeDone(up: Upstream, extraBytes: boolean): void {
    const backend = up.backend;
    const request = this.head as MessageHead;
    const response = this.responseHead as MessageHead;
    this.countResponse(response.status);
    this.up = null;
    up.owner = null;
    backend.end();
    if (this.upstreamPaused) {
      this.upstreamPaused = false;
      up.socket.resume();
    }
    const reusable =
      this.requestDone && !extraBytes && request.keepAlive && response.keepAlive && up.parser.idle;
    if (!reusable || !backend.putIdle(up, Date.now())) up.destroy();

    const mustClose =
      !this.requestDone ||
      !request.keepAlive ||
      !response.keepAlive ||
      this.closing ||
      this.clientEnded;
    this.head = null;
    this.responseHead = null;
    this.requestDone = false;
    this.responseStarted = false;
    this.replay = null;
    this.failed = null;
    this.resumeClient(PAUSE_UPSTREAM);
    if (mustClose) {
      this.endClient();
      return;
    }
    this.phase = P_IDLE;
    // The idle timeout counts from the end of the last exchange, however long it took.
    this.activeTick = this.clock.tick;
    if (this.pending !== null) this.resumePending();
  }

  private startTunnel(up: Upstream, chunk: Buffer, pos: number): void {
    // The exchange that opened the tunnel counts; the tunnel's life is not a latency.
    this.countResponse((this.responseHead as MessageHead).status);
    this.phase = P_TUNNEL;
    this.replay = null;
    this.writeClient(up, chunk, pos, chunk.length);
    const pending = this.pending;
    this.pending = null;
    if (pending !== null) up.socket.write(pending);
    this.resumeClient(PAUSE_PIPELINE);
    if (this.clientEnded) up.socket.end();
  }

  // ---- answers of the proxy itself ---------------------------------------------------

  private reject(error: FramingError): void {
    if (error.code === "head_too_large") this.respond(RESPONSE_431, 431);
    else this.respond(RESPONSE_400, 400);
  }

  /** Answers the client with a response of the proxy's own and closes the connection. */
  private respond(response: Buffer, status: number): void {
    if (this.phase === P_CLOSED) return;
    // Once a backend's head went out, that is the status the client saw.
    this.countResponse(this.responseHead?.status ?? status);
    const up = this.up;
    if (up !== null) {
      this.up = null;
      up.destroy();
      up.backend.end();
    }
    this.phase = P_CLOSED;
    this.pending = null;
    this.replay = null;
    // Once part of a response went out, another response cannot follow it: cut instead.
    if (this.responseStarted) this.client.destroy();
    else {
      if (this.stats !== null) this.stats.bytesOut += response.length;
      this.client.end(response);
    }
  }

  /** Counts the current request once, with the status its client got. */
  private countResponse(status: number): void {
    const stats = this.stats;
    if (stats === null || this.requestStart < 0) return;
    stats.observe(status, performance.now() - this.requestStart);
    this.requestStart = -1;
  }

  private endClient(): void {
    this.phase = P_CLOSED;
    this.pending = null;
    this.client.end();
  }

  private pauseClient(reason: number): void {
    if (this.pauses === 0) this.client.pause();
    this.pauses |= reason;
  }

  private resumeClient(reason: number): void {
    if ((this.pauses & reason) === 0) return;
    this.pauses &= ~reason;
    if (this.pauses === 0) this.client.resume();
  }
}
