/**
 * One HTTP connection from the proxy to a backend. It outlives the client sessions that
 * use it: between requests it sits in its backend's idle pool. Socket events go to the
 * current owner (a session), or close the connection when nobody owns it.
 */
import { connect, type Socket } from "node:net";
import type { Backend } from "./backend.js";
import { HttpFramer } from "./framing.js";
import { ReadBuffer } from "./read-buffer.js";

export interface UpstreamOwner {
  onUpstreamData(up: Upstream, chunk: Buffer): void;
  onUpstreamDrain(up: Upstream): void;
  /** The backend half-closed (FIN). */
  onUpstreamEnd(up: Upstream): void;
  /** The connection is gone; `error` is the socket error if any. */
  onUpstreamClose(up: Upstream, error: Error | null): void;
}

export class Upstream {
  readonly socket: Socket;
  /** Frames the backend's responses on this connection. */
  readonly parser = new HttpFramer("response");
  /**
   * Responses are read into this buffer (see ReadBuffer): an owner that leaves bytes of
   * a chunk referenced after onUpstreamData returns (a write that did not complete at
   * once) sets `readBuffer.held`.
   */
  readonly readBuffer = new ReadBuffer();
  owner: UpstreamOwner | null = null;
  /** The TCP connect succeeded: a failure after it may have reached the backend. */
  connected = false;
  idleSince = 0;
  private error: Error | null = null;
  private closed = false;

  constructor(readonly backend: Backend<Upstream>) {
    backend.connections++;
    const socket = connect({
      host: backend.host,
      port: backend.port,
      noDelay: true,
      allowHalfOpen: true,
      onread: {
        buffer: this.readBuffer.next,
        callback: (nread: number, buffer: Uint8Array): boolean => {
          const chunk = (buffer as Buffer).subarray(0, nread);
          if (this.owner !== null) this.owner.onUpstreamData(this, chunk);
          // Bytes nobody asked for: the connection is out of step, never reuse it.
          else this.destroy();
          return true;
        },
      },
    });
    this.socket = socket;
    socket.on("connect", () => {
      this.connected = true;
    });
    socket.on("drain", () => {
      this.owner?.onUpstreamDrain(this);
    });
    socket.on("end", () => {
      if (this.owner !== null) this.owner.onUpstreamEnd(this);
      else this.destroy();
    });
    socket.on("error", (err) => {
      this.error = err;
    });
    socket.on("close", () => {
      this.closed = true;
      backend.connections--;
      const owner = this.owner;
      this.owner = null;
      if (owner !== null) owner.onUpstreamClose(this, this.error);
      else backend.removeIdle(this);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Closes the connection without telling its owner (the owner asked for it). */
  destroy(): void {
    this.owner = null;
    this.backend.removeIdle(this);
    this.socket.destroy();
  }
}
