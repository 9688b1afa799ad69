// The smallest useful web app: answers with a greeting and the replica that served it.
const http = require("node:http");

const greeting = process.env.GREETING ?? "hello";
const replica = process.env.BATON_REPLICA ?? "local";

const server = http.createServer((req, res) => {
  if (req.url === "/healthz") {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok\n");
    return;
  }
  res.writeHead(200, { "content-type": "text/plain" });
  res.end(`${greeting} (served by ${replica})\n`);
});

server.listen(Number(process.env.PORT ?? 3000), "127.0.0.1", () => {
  console.log(`${replica} listening on ${server.address().port}`);
});

process.on("SIGTERM", () => server.close(() => process.exit(0)));
