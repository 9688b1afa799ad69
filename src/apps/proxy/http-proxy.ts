/**
 * The listener of an HTTP route: accepts client connections and gives each to an
 * HttpSession, which does the framing-aware forwarding.
 */
import { createServer, type Server, type Socket } from "node:net";
import { HttpSession } from "./http-session.js";
import { bindServer, type Listener, SessionSet } from "./listener.js";
import type { Route } from "./route.js";
import type { Upstream } from "./upstream.js";

export class HttpListener implements Listener {
  readonly protocol = "http";

  private constructor(
    private readonly server: Server,
    private readonly sessions: SessionSet<HttpSession>,
    readonly host: string,
    readonly port: number,
  ) {}

  static async open(route: Route<Upstream>, host: string, port: number): Promise<HttpListener> {
    const sessions = new SessionSet<HttpSession>();
    const onClosed = (s: HttpSession): void => sessions.delete(s);
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket: Socket) => {
      sessions.add(new HttpSession(socket, route, sessions.clock, onClosed));
    });
    await bindServer(server, host, port);
    return new HttpListener(server, sessions, host, port);
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  close(): void {
    this.server.close();
  }

  closeIdle(): void {
    this.sessions.closeIdle();
  }

  sweep(): void {
    this.sessions.sweep();
  }

  destroyAll(): void {
    this.sessions.destroyAll();
  }
}
