/**
 * A tiny Node HTTP backend in its own process: answers every request with a short fixed
 * body. The yardstick benchmarks of proxies and load balancers run against.
 */
import { type Started, startProcess } from "./process.js";
import { waitForPort } from "./wait.js";

const SOURCE = `
import { createServer } from "node:http";
const body = Buffer.from("hello from " + process.argv[1] + "\\n");
const server = createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
  res.end(body);
});
server.keepAliveTimeout = 30_000;
server.listen(Number(process.argv[1]), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
`;

export async function startHttpBackend(port: number, logFile?: string): Promise<Started> {
  const started = startProcess(
    `backend:${port}`,
    process.execPath,
    ["--input-type=module", "-e", SOURCE, String(port)],
    logFile === undefined ? {} : { logFile },
  );
  await waitForPort(port, `backend ${port}`);
  return started;
}
