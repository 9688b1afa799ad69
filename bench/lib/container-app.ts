/**
 * The app and image every container benchmark runs, whoever manages it (Baton, `docker run`,
 * a Swarm service): one image, built here from the tests' node base image (node and busybox,
 * no registry needed), so every contender starts the very same bytes.
 *
 * The app listens on `$PORT` (8080 by default) on all interfaces, `START_DELAY_MS` (300 by
 * default) after its process began, like a real service that takes a moment to start. It
 * answers GET / with "VERSION HOSTNAME STARTED_AT": the release, the container (its hostname
 * is the short container id) and when its process began (Node's `performance.timeOrigin`,
 * wall-clock ms), so a client tells a replacement from the container it killed even when
 * Docker restarts the same container. GET /healthz answers "ok". On SIGTERM it shuts down
 * the usual graceful way (`server.close()`), as PID 1 of its container.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { docker, nodeBaseImage } from "../../test/helpers/docker.js";

export const APP_PORT = 8080;

const SERVER = `"use strict";
const { createServer } = require("node:http");
const { hostname } = require("node:os");
const prefix = (process.env.VERSION || "0") + " " + hostname() + " " + performance.timeOrigin.toFixed(1);
const server = createServer((req, res) => {
  const text = req.url === "/healthz" ? "ok" : prefix;
  res.writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(text) });
  res.end(text);
});
server.keepAliveTimeout = 30_000;
setTimeout(
  () => server.listen(Number(process.env.PORT || ${APP_PORT}), "0.0.0.0"),
  Number(process.env.START_DELAY_MS || 300),
);
function stop() {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 5_000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
`;

/** The app's command inside the image: the node the base image copied from this host. */
export const APP_COMMAND: readonly string[] = [process.execPath, "/app/server.js"];

/**
 * A health check command for the container (a Swarm HEALTHCHECK): node asks /healthz.
 * The base image's busybox has no wget, and node is what the app runs anyway.
 */
export const HEALTH_COMMAND: readonly string[] = [
  process.execPath,
  "-e",
  `require("node:http").get("http://127.0.0.1:${APP_PORT}/healthz", (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on("error", () => process.exit(1))`,
];

/** An answer of the app: its version, its container's hostname and its process's start. */
export interface AppAnswer {
  readonly version: string;
  readonly host: string;
  readonly startedAt: number;
}

export function parseAppAnswer(body: string): AppAnswer | undefined {
  const [version, host, started] = body.split(" ");
  const startedAt = Number(started);
  if (version === undefined || host === undefined || !(startedAt > 0)) return undefined;
  return { version, host, startedAt };
}

let built: Promise<string> | undefined;

/**
 * `baton-bench/container-app:<hash>` (the hash covers the base image and the app), built
 * with `docker build` FROM the node base image when missing, labelled `baton.bench=1`.
 * Kept afterwards, like the base image: the next run reuses it.
 */
export function containerAppImage(): Promise<string> {
  built ??= buildImage().catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return built;
}

async function buildImage(): Promise<string> {
  const base = await nodeBaseImage();
  const dockerfile = `FROM ${base}
COPY server.js /app/server.js
LABEL baton.bench=1
EXPOSE ${APP_PORT}
CMD ${JSON.stringify(APP_COMMAND)}
`;
  const hash = createHash("sha256").update(dockerfile).update(SERVER).digest("hex").slice(0, 12);
  const ref = `baton-bench/container-app:${hash}`;
  try {
    await docker(["image", "inspect", "--format", "{{.Id}}", ref]);
    return ref;
  } catch {
    // not built yet
  }
  const context = mkdtempSync(join(tmpdir(), "baton-bench-image-"));
  try {
    writeFileSync(join(context, "Dockerfile"), dockerfile);
    writeFileSync(join(context, "server.js"), SERVER);
    await docker(["build", "--quiet", "--tag", ref, context]);
    return ref;
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}
