/**
 * The listener of an HTTP route: accepts client connections and gives each to an
 * HttpSession, which does the framing-aware forwarding.
 */
import { createServer, type Socket } from "node:net";
import { HttpSession } from "./http-session.js";
import { bindServer, type Listener, SessionListener, SessionSet } from "./listener.js";
import type { Route } from "./route.js";
import type { Upstream } from "./upstream.js";

/** Opens the listener of an HTTP route on host:port. */
export async function openHttpListener(
  route: Route<Upstream>,
  host: string,
  port: number,
): Promise<Listener> {
  const sessions = new SessionSet<HttpSession>();
  const onClosed = (s: HttpSession): void => sessions.delete(s);
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket: Socket) => {
    sessions.add(new HttpSession(socket, route, sessions.clock, onClosed));
  });
  await bindServer(server, host, port);
  return new SessionListener("http", server, sessions, host, port);
}
