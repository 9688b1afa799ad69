/** Where the proxy keeps its files in a state directory; shared by the process and client. */
import { join } from "node:path";

export interface ProxyPaths {
  readonly socket: string;
  readonly pid: string;
  readonly routes: string;
  readonly log: string;
}

export function proxyPaths(stateDir: string): ProxyPaths {
  return {
    socket: join(stateDir, "proxy.sock"),
    pid: join(stateDir, "proxy.pid"),
    routes: join(stateDir, "proxy.json"),
    log: join(stateDir, "logs", "proxy.log"),
  };
}
