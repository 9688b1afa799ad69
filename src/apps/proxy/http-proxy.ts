/**
 * The listener of an HTTP route: accepts client connections and gives each to an
 * HttpSession, which does the framing-aware forwarding.
 */
import { createServer, type Socket } from "node:net";
import { HttpSession } from "./http-session.js";
import {
  admitted,
  bindServer,
  type Listener,
  type ListenerContext,
  SessionListener,
  SessionSet,
} from "./listener.js";
import type { Route } from "./route.js";
import type { Upstream } from "./upstream.js";

/** What a client over the connection caps (limits.ts) is told before it is closed. */
const RESPONSE_BUSY = Buffer.from(
  "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 29\r\nconnection: close\r\n\r\ntoo many connections, retry\r\n",
  "latin1",
);

/** Opens the listener of an HTTP route on host:port. */
export async function openHttpListener(
  route: Route<Upstream>,
  host: string,
  port: number,
  context: ListenerContext,
): Promise<Listener> {
  const sessions = new SessionSet<HttpSession>(context.limits);
  const onClosed = (s: HttpSession): void => sessions.delete(s);
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket: Socket) => {
    if (!admitted(context, socket, RESPONSE_BUSY)) return;
    sessions.add(new HttpSession(socket, route, sessions.clock, onClosed));
  });
  await bindServer(server, host, port);
  return new SessionListener("http", server, sessions, host, port);
}
