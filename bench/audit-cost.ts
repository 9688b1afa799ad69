/**
 * What the audit log adds to `baton apply` (issue 19's bench note): one controller per build,
 * 20 applies of the same definition through the CLI and the API, interleaved between the
 * build with the audit log (this tree's dist/) and one without (BATON_BENCH_CLI_BEFORE, e.g.
 * the commit before tokens, built apart), then the audit write alone, timed on the state file
 * of the running controller. The audit entry is appended after the answer is sent, so what
 * a client can see of it is the CPU it takes, bounded by the write's time.
 *
 *   BATON_BENCH_CLI_BEFORE=/tmp/baton-before/dist/bin/baton.js node --import tsx bench/audit-cost.ts
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SqliteStore } from "../src/store/index.js";
import { freePort } from "./lib/net.js";
import { type Summary, summarize } from "./lib/stats.js";
import { writeTinyApp } from "./lib/tiny-app.js";

const APPLIES = 20;
const AFTER = resolve(import.meta.dirname, "../dist/bin/baton.js");
const BEFORE = process.env.BATON_BENCH_CLI_BEFORE;

function cli(build: string, dir: string, args: readonly string[]): Promise<number> {
  const started = performance.now();
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      [build, ...args],
      { cwd: dir, env: { ...process.env, NO_COLOR: "1", BATON_STATE: "", BATON_TOKEN: "" } },
      (error, stdout, stderr) => {
        if (error !== null) fail(new Error(`baton ${args.join(" ")}: ${stdout}${stderr}`));
        else done(performance.now() - started);
      },
    );
  });
}

async function project(build: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "baton-audit-bench-"));
  const app = writeTinyApp(dir);
  writeFileSync(
    join(dir, "baton.yaml"),
    `apps:\n  web:\n    command: ["${process.execPath}", ${JSON.stringify(app)}]\n    replicas: 1\n    port: ${await freePort()}\n`,
  );
  await cli(build, dir, ["up", "--detach"]);
  await cli(build, dir, ["wait", "--timeout", "60s"]);
  return dir;
}

const line = (name: string, s: Summary) =>
  `| ${name} | ${s.min.toFixed(2)} | ${s.median.toFixed(2)} | ${s.max.toFixed(2)} |`;

const builds = [{ name: "with audit", build: AFTER }];
if (BEFORE !== undefined) builds.push({ name: "without audit (before tokens)", build: BEFORE });
const dirs = await Promise.all(builds.map((b) => project(b.build)));
try {
  const samples: number[][] = builds.map(() => []);
  for (let i = 0; i < APPLIES; i++) {
    for (const [k, b] of builds.entries()) {
      samples[k]?.push(await cli(b.build, dirs[k] ?? "", ["apply"]));
    }
  }
  // The statement the API runs after each mutating call, on the same file, while it runs.
  const store = SqliteStore.open(join(dirs[0] ?? "", ".baton"), { create: false });
  const writes: number[] = [];
  for (let i = 0; i < APPLIES; i++) {
    const started = performance.now();
    store.audit.append({
      who: "bench",
      role: "admin",
      action: "POST /api/v1/apply",
      target: null,
      outcome: 200,
      address: "127.0.0.1",
    });
    writes.push(performance.now() - started);
  }
  store.close();
  const rows = builds.map((b, k) =>
    line(`\`baton apply\`, ${b.name}`, summarize(samples[k] ?? [])),
  );
  const write = summarize(writes);
  const apply = summarize(samples[0] ?? []);
  console.log(`| ${APPLIES} runs, ms | min | median | max |\n|---|---|---|---|`);
  console.log([...rows, line("audit append alone", write)].join("\n"));
  console.log(
    `\naudit append / apply (medians): ${((100 * write.median) / apply.median).toFixed(3)} %`,
  );
} finally {
  for (const [k, b] of builds.entries()) {
    await cli(b.build, dirs[k] ?? "", ["down"]).catch(() => 0);
    rmSync(dirs[k] ?? "", { recursive: true, force: true });
  }
}
