/**
 * The app both Baton and PM2 run in the self-heal and idle benchmarks: a tiny Node HTTP
 * server on `$PORT` that answers 200 with its own pid, so a client can tell which process
 * answered (the old one, or the replacement). It also says when its process started
 * (`x-started-at`: Node's `performance.timeOrigin`) and when it started listening
 * (`x-listening-at`), both in wall-clock ms since the epoch, so a benchmark can tell how long
 * the manager took to start it from how long the app took to start.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const SERVER = `"use strict";
const { createServer } = require("node:http");
const body = String(process.pid);
const startedAt = performance.timeOrigin.toFixed(1);
let listeningAt = "";
const server = createServer((req, res) => {
  res.writeHead(200, {
    "content-type": "text/plain",
    "content-length": Buffer.byteLength(body),
    "x-started-at": startedAt,
    "x-listening-at": listeningAt,
  });
  res.end(body);
});
server.listen(Number(process.env.PORT), "127.0.0.1", () => {
  listeningAt = (performance.timeOrigin + performance.now()).toFixed(1);
});
`;

/** Writes `server.js` (CommonJS: no package.json beside it) into dir; returns its path. */
export function writeTinyApp(dir: string): string {
  const path = join(dir, "server.js");
  writeFileSync(path, SERVER);
  return path;
}
