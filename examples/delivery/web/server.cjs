// A tiny web app: says the greeting of greeting.txt and which replica answered.
const http = require("node:http");
const { greeting } = require("./greeting.cjs");

const text = greeting();
http
  .createServer((req, res) => {
    if (req.url === "/healthz") return res.end("ok\n");
    res.end(`${text} (replica ${process.env.BATON_REPLICA ?? "local"})\n`);
  })
  .listen(Number(process.env.PORT ?? 8080), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
