/**
 * The app of the rollout and recovery benchmarks: a small Node HTTP server on `$PORT` that
 * answers "VERSION PID" (so a client tells the old release from the new one, and which
 * process answered) and "ok" on /healthz. Like a real service it takes a while to start: it
 * listens `startDelayMs` after its process began, so a rollout that sends traffic to a
 * process before it listens, or stops the old ones before the new ones listen, drops
 * requests. On SIGTERM or SIGINT (what Baton and PM2 send) it shuts down the usual graceful
 * way: `server.close()` (stop accepting, close idle keep-alive connections, let requests in
 * flight finish), then exit.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ControllerStatus } from "../../src/controller/index.js";
import type { Pm2, Pm2Process } from "./pm2.js";
import { waitFor } from "./wait.js";

function source(startDelayMs: number): string {
  return `"use strict";
const { createServer } = require("node:http");
const body = (process.env.VERSION || "0") + " " + process.pid;
const server = createServer((req, res) => {
  const text = req.url === "/healthz" ? "ok" : body;
  res.writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(text) });
  res.end(text);
});
server.keepAliveTimeout = 30_000;
setTimeout(() => server.listen(Number(process.env.PORT), "127.0.0.1"), ${startDelayMs});
function stop() {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 5_000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
`;
}

/** Writes `server.js` (CommonJS: no package.json beside it) into dir; returns its path. */
export function writeVersionedApp(dir: string, startDelayMs = 300): string {
  const path = join(dir, "server.js");
  writeFileSync(path, source(startDelayMs));
  return path;
}

/** The version of a "VERSION PID" answer, and its pid. */
export function parseAnswer(body: string): { version: string; pid: number } {
  const [version = "", pid = ""] = body.split(" ");
  return { version, pid: Number(pid) };
}

/** The `update:` policy of the app (Baton's default is maxSurge 1, maxUnavailable 0). */
export interface UpdatePolicyYaml {
  readonly maxSurge: number | string;
  readonly maxUnavailable: number | string;
}

/**
 * baton.yaml of one app `web` running that server.js: `replicas` replicas behind Baton's
 * proxy on `port`, ready once GET /healthz answers, with VERSION in its environment (a
 * change of VERSION is a new revision: a rollout). `update`, when given, is the app's
 * rolling-update policy; without it Baton's default applies.
 */
export function webAppYaml(
  project: string,
  port: number,
  replicas: number,
  version: string,
  update?: UpdatePolicyYaml,
): string {
  const policy =
    update === undefined
      ? ""
      : `    update: { maxSurge: ${JSON.stringify(update.maxSurge)}, maxUnavailable: ${JSON.stringify(update.maxUnavailable)} }\n`;
  return `project: ${project}
apps:
  web:
    command: ["node", "server.js"]
    cwd: .
    replicas: ${replicas}
    port: ${port}
    env: { VERSION: "${version}" }
${policy}    health:
      readiness: { http: /healthz }
`;
}

export type WebAppStatus = ControllerStatus["apps"][number];

/** The bench's one app in `baton status --json`. */
export function webApp(status: ControllerStatus): WebAppStatus {
  const app = status.apps.find((a) => a.name === "web");
  if (app === undefined) throw new Error("baton status: no app web");
  return app;
}

/** The bench app's instances in `pm2 jlist`. */
export function webProcesses(list: readonly Pm2Process[]): Pm2Process[] {
  return list.filter((p) => p.name === "web");
}

/**
 * `pm2 start SCRIPT -i replicas` (cluster mode, VERSION 1 on `port`), then waits until
 * every instance is online and `answers()`; each instance's pid goes into `pids`.
 */
export async function startPm2Cluster(
  pm2: Pm2,
  script: string,
  replicas: number,
  port: number,
  pids: Set<number>,
  answers: () => Promise<boolean>,
): Promise<void> {
  await pm2.run(["start", script, "-i", String(replicas), "--name", "web"], 60_000, {
    PORT: String(port),
    VERSION: "1",
  });
  await waitFor(
    async () => {
      const list = webProcesses(await pm2.jlist());
      for (const p of list) if (p.pid > 0) pids.add(p.pid);
      return (
        list.length === replicas &&
        list.every((p) => p.pm2_env.status === "online") &&
        (await answers())
      );
    },
    "PM2's instances to be online and answer",
    30_000,
    200,
  );
}
