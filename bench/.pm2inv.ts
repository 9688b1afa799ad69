import { mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startLoad } from "./lib/load.js";
import { freePorts } from "./lib/net.js";
import { Pm2 } from "./lib/pm2.js";
import { writeVersionedApp } from "./lib/versioned-app.js";
import { ensurePm2 } from "./peers.js";
const work = mkdtempSync("/tmp/pm2inv/w-");
const pm2 = new Pm2(ensurePm2(), join(work, "home"));
const [port] = await freePorts(1);
const script = writeVersionedApp(work, 300);
const seen = new Set<number>();
try {
  await pm2.run(["start", script, "-i", "4", "--name", "web"], 60_000, { PORT: String(port), VERSION: "1" });
  await new Promise((r) => setTimeout(r, 2000));
  for (let v = 2; v <= 7; v++) {
    for (const p of await pm2.jlist()) seen.add(p.pid);
    const load = startLoad({ port: port as number, ratePerS: 600, connections: 8, maxDurationMs: 30_000 });
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = performance.now();
    await pm2.run(["reload", "web", "--update-env"], 60_000, { PORT: String(port), VERSION: String(v) });
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 1000));
    const r = await load.stop();
    console.log(v, ms.toFixed(0), JSON.stringify(r.errors), r.failedAt.map((x) => Math.round(x - t0)).join(","));
  }
  for (const p of await pm2.jlist()) seen.add(p.pid);
} finally {
  await pm2.kill([...seen]);
  console.log(readFileSync(join(work, "home", "pm2.log"), "utf8").split("\n").filter(l => !/online|Starting execution/.test(l)).slice(-80).join("\n"));
}
