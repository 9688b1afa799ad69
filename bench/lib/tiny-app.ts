/**
 * The app both Baton and PM2 run in the self-heal and idle benchmarks: a tiny Node HTTP
 * server on `$PORT` that answers 200 with its own pid, so a client can tell which process
 * answered (the old one, or the replacement).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const SERVER = `"use strict";
const { createServer } = require("node:http");
const body = String(process.pid);
const server = createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(body) });
  res.end(body);
});
server.listen(Number(process.env.PORT), "127.0.0.1");
`;

/** Writes `server.js` (CommonJS: no package.json beside it) into dir; returns its path. */
export function writeTinyApp(dir: string): string {
  const path = join(dir, "server.js");
  writeFileSync(path, SERVER);
  return path;
}
