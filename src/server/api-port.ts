import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The API's port, when the operator fixed one (`baton up --api-port`): kept in the state
 * directory so a restarted or upgraded controller listens where Prometheus scrapes it.
 */
export function apiPortPath(stateDir: string): string {
  return join(stateDir, "api-port");
}

/** The port a controller of this state directory listens on: 0 when any free one will do. */
export function rememberedApiPort(stateDir: string): number {
  try {
    const port = Number(readFileSync(apiPortPath(stateDir), "utf8").trim());
    return Number.isInteger(port) && port > 0 && port < 65536 ? port : 0;
  } catch {
    return 0;
  }
}

/** Records the port for later controllers; 0 forgets it (any free port again). */
export function rememberApiPort(stateDir: string, port: number): void {
  if (port === 0) rmSync(apiPortPath(stateDir), { force: true });
  else writeFileSync(apiPortPath(stateDir), `${port}\n`, { mode: 0o600 });
}
