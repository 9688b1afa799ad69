/**
 * The route table on disk (`proxy.json`), so a restarted proxy serves the last known
 * routes at once, before any controller is back. Written atomically: a crash mid-write
 * leaves the previous file, never half of one.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { parseRouteSpec, type RouteSpec, validateAppName } from "./protocol.js";

export interface StoredRoutes {
  readonly version: 1;
  readonly routes: Readonly<Record<string, RouteSpec>>;
}

export class RouteStore {
  constructor(readonly path: string) {}

  /** The saved routes; none when the file does not exist. Invalid entries are reported. */
  load(onInvalid: (app: string, reason: string) => void): Map<string, RouteSpec> {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return new Map();
      throw err;
    }
    const routes = new Map<string, RouteSpec>();
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      onInvalid("*", `${this.path} is not JSON: ${(err as Error).message}`);
      return routes;
    }
    const stored =
      typeof data === "object" && data !== null ? (data as { routes?: unknown }).routes : null;
    if (typeof stored !== "object" || stored === null) {
      onInvalid("*", `${this.path} has no "routes" object`);
      return routes;
    }
    for (const [app, spec] of Object.entries(stored)) {
      try {
        routes.set(validateAppName(app), parseRouteSpec(spec));
      } catch (err) {
        onInvalid(app, (err as Error).message);
      }
    }
    return routes;
  }

  save(routes: ReadonlyMap<string, RouteSpec>): void {
    const data: StoredRoutes = { version: 1, routes: Object.fromEntries(routes) };
    const tmp = `${this.path}.${process.pid}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, `${JSON.stringify(data, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }
}
