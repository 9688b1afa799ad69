/**
 * The proxy process: `node dist/apps/proxy/main.js --state DIR`.
 *
 * Runs detached from the controller (its own session, output to DIR/logs/proxy.log) so
 * that a controller that dies or restarts drops no request. It serves the routes saved in
 * DIR/proxy.json at once, then takes changes on DIR/proxy.sock.
 *
 * `--metrics off` (or BATON_PROXY_METRICS=off in its environment) stops counting the
 * routes' golden signals; it exists so their cost can be measured, not to save it.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { livePid } from "./control-request.js";
import { createControlServer } from "./control-server.js";
import { limitsFrom, type ProxyLimits } from "./limits.js";
import { proxyOwner } from "./owner.js";
import { proxyPaths } from "./paths.js";
import { RouteStore } from "./route-store.js";
import { RouteTable } from "./route-table.js";

/** In-flight requests get this long to finish on SIGTERM. */
const SHUTDOWN_DRAIN_MS = 10_000;

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} proxy[${process.pid}] ${message}\n`);
}

function fail(message: string): never {
  process.stderr.write(`baton proxy: ${message}\n`);
  process.exit(1);
}

/** Metrics are on unless the flag, else the environment, says "off" (or "0", "false"). */
function metricsWanted(flag: string | undefined): boolean {
  const value = (flag ?? process.env.BATON_PROXY_METRICS ?? "on").toLowerCase();
  if (value === "on" || value === "1" || value === "true") return true;
  if (value === "off" || value === "0" || value === "false") return false;
  fail(`--metrics / BATON_PROXY_METRICS must be on or off, found ${JSON.stringify(value)}`);
}

function listenUnix(server: Server, path: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolvePromise();
    });
  });
}

function removeIfOurs(pidFile: string): void {
  try {
    if (readFileSync(pidFile, "utf8").trim() === String(process.pid)) unlinkSync(pidFile);
  } catch {
    // Already gone.
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      state: { type: "string" },
      metrics: { type: "string" },
      "head-timeout-ms": { type: "string" },
      "max-connections": { type: "string" },
      "max-connections-per-client": { type: "string" },
    },
    strict: true,
  });
  if (values.state === undefined) {
    fail(
      "usage: main.js --state DIR [--metrics on|off] [--head-timeout-ms N] [--max-connections N] [--max-connections-per-client N]",
    );
  }
  const metrics = metricsWanted(values.metrics);
  let limits: ProxyLimits;
  try {
    limits = limitsFrom(
      {
        headTimeoutMs: values["head-timeout-ms"],
        maxConnections: values["max-connections"],
        maxConnectionsPerClient: values["max-connections-per-client"],
      },
      process.env,
    );
  } catch (error) {
    fail((error as Error).message);
  }
  const stateDir = resolve(values.state);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const paths = proxyPaths(stateDir);

  const owner = (await livePid(paths.socket)) ?? proxyOwner(stateDir);
  if (owner !== undefined) {
    fail(
      `another proxy (pid ${owner}) already serves ${stateDir} (${paths.socket}, ${paths.pid}); not starting`,
    );
  }
  try {
    unlinkSync(paths.socket); // stale: nobody answers on it
  } catch {
    // None.
  }

  const table = new RouteTable(new RouteStore(paths.routes), log, { metrics, limits });
  await table.load();
  const control = createControlServer(table, log);
  try {
    await listenUnix(control, paths.socket);
    // Who may connect may change routes: the controller's user only.
    chmodSync(paths.socket, 0o600);
  } catch (err) {
    fail(`cannot listen on ${paths.socket}: ${(err as Error).message}`);
  }
  const tmp = `${paths.pid}.${process.pid}.tmp`;
  writeFileSync(tmp, `${process.pid}\n`, { mode: 0o600 });
  renameSync(tmp, paths.pid);
  log(
    `serving ${stateDir} (control ${paths.socket}, metrics ${metrics ? "on" : "off"}, head deadline ${limits.headTimeoutMs} ms, at most ${limits.maxConnections} connections, ${limits.maxConnectionsPerClient} per client address)`,
  );

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stop accepting, draining in-flight requests (at most ${SHUTDOWN_DRAIN_MS} ms)`);
    // Free the socket at once so a new proxy can start while this one drains.
    control.close();
    try {
      unlinkSync(paths.socket);
    } catch {
      // Already gone.
    }
    table
      .shutdown(SHUTDOWN_DRAIN_MS)
      .then((drained) => {
        log(drained ? "drained; exiting" : "drain timed out; cut remaining connections");
        removeIfOurs(paths.pid);
        process.exit(0);
      })
      .catch((err: unknown) => {
        log(`shutdown failed: ${String(err)}`);
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  // Detached from any terminal; a hangup of whoever started it is not a reason to stop.
  process.on("SIGHUP", () => undefined);
}

process.on("uncaughtException", (err) => {
  // A bug: state may be inconsistent, so exit and let the controller start a fresh one.
  log(`fatal: ${err.stack ?? String(err)}`);
  process.exit(70);
});

main().catch((err: unknown) => fail((err as Error)?.stack ?? String(err)));
