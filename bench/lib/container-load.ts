/**
 * The bounded load of the container benchmarks, one script for every contender: run on the
 * host against Baton's proxy port, or in a container on a Swarm service's overlay network
 * against the service's tasks (Swarm's own load balancing, IPVS, is missing on this kernel;
 * with `--endpoint-mode dnsrr` a client resolves the tasks and spreads its requests itself).
 *
 * `connections` loops each send one GET at a time on a fixed schedule (together `ratePerS`),
 * each request on a FRESH connection (`connection: close`): no keep-alive socket to a task
 * that is going away, the kindest way to treat a DNS round-robin client. A target is
 * `host:port` (always that address) or `dns:NAME:port` (NAME resolved every `resolveEveryMs`,
 * requests round-robin over its addresses; the last answer is kept while a lookup fails).
 * A 2xx is served; anything else (a status, a refused or reset connection, no answer within
 * `timeoutMs`) is failed, by kind. It stops on SIGTERM or after `maxDurationMs`, waits for
 * what is in flight, and prints one JSON line (LoadReport) on stdout. Times are wall-clock
 * ms (`Date.now()`): the host and its containers share the clock.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { docker } from "../../test/helpers/docker.js";
import { waitFor } from "./wait.js";

export interface LoadSettings {
  readonly target: string;
  readonly ratePerS: number;
  readonly connections: number;
  readonly maxDurationMs: number;
  readonly timeoutMs: number;
  readonly resolveEveryMs: number;
}

export interface LoadReport {
  readonly startedAt: number;
  readonly stoppedAt: number;
  readonly requests: number;
  readonly served: number;
  readonly failed: number;
  readonly errors: Readonly<Record<string, number>>;
  /** Wall clock of the first failures (at most 50). */
  readonly failedAt: readonly number[];
  /** First and last answer of each version ("VERSION" of the app's answer). */
  readonly versions: Readonly<Record<string, { count: number; firstAt: number; lastAt: number }>>;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Lookups that failed (dns targets). */
  readonly resolveErrors: number;
}

const SCRIPT = `"use strict";
const http = require("node:http");
const dns = require("node:dns");
const s = JSON.parse(process.argv[2]);
let addresses = [];
let resolveErrors = 0;
let dnsName;
let port;
if (s.target.startsWith("dns:")) {
  const [, name, p] = s.target.split(":");
  dnsName = name;
  port = Number(p);
} else {
  const [host, p] = s.target.split(":");
  addresses = [host];
  port = Number(p);
}
let next = 0;
function refresh() {
  return new Promise((done) =>
    dns.resolve4(dnsName, (error, list) => {
      if (error || list.length === 0) resolveErrors += 1;
      else addresses = list.sort();
      done();
    }),
  );
}
const startedAt = Date.now();
const deadline = startedAt + s.maxDurationMs;
const errors = {};
const failedAt = [];
const versions = {};
const latencies = [];
let served = 0;
let failed = 0;
let stopping = false;
let stoppedAt = 0;
const sleepers = new Set();
function sleep(ms) {
  return new Promise((res) => {
    const wake = () => { clearTimeout(t); sleepers.delete(wake); res(); };
    const t = setTimeout(wake, ms);
    sleepers.add(wake);
  });
}
function one() {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let settled = false;
    const done = (kind, body) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const now = Date.now();
      latencies.push(now - t0);
      if (kind !== undefined) {
        failed += 1;
        errors[kind] = (errors[kind] || 0) + 1;
        if (failedAt.length < 50) failedAt.push(now);
      } else {
        served += 1;
        if (served === 1) process.stderr.write("first-served\\n");
        const v = body.split(" ")[0];
        const seen = versions[v];
        if (seen === undefined) versions[v] = { count: 1, firstAt: now, lastAt: now };
        else { seen.count += 1; seen.lastAt = now; }
      }
      resolve();
    };
    if (addresses.length === 0) { done("no address"); return; }
    const host = addresses[next++ % addresses.length];
    const req = http.request(
      { host, port, path: "/", method: "GET", agent: false, headers: { connection: "close" } },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const status = res.statusCode || 0;
          if (status < 200 || status > 299) done("HTTP " + status);
          else done(undefined, Buffer.concat(chunks).toString());
        });
        res.on("error", (e) => done(e.code || e.message));
      },
    );
    const timer = setTimeout(() => { done("timeout"); req.destroy(); }, s.timeoutMs);
    req.on("error", (e) => done(e.code || e.message));
    req.end();
  });
}
const interval = (s.connections * 1000) / s.ratePerS;
async function loop(i) {
  let due = startedAt + (i * interval) / s.connections;
  while (!stopping && Date.now() < deadline) {
    const now = Date.now();
    if (due > now) { await sleep(Math.min(due - now, deadline - now)); continue; }
    if (now - due > 250) due += Math.floor((now - due) / interval) * interval;
    await one();
    due += interval;
  }
}
async function resolver() {
  while (!stopping && Date.now() < deadline) {
    await refresh();
    await sleep(s.resolveEveryMs);
  }
}
async function main() {
  if (dnsName !== undefined) {
    await refresh();
    resolver();
  }
  const loops = [];
  for (let i = 0; i < s.connections; i++) loops.push(loop(i));
  await Promise.all(loops);
  stoppedAt = stoppedAt || Date.now();
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies.length === 0 ? 0 : latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)];
  process.stdout.write(JSON.stringify({
    startedAt, stoppedAt, requests: served + failed, served, failed, errors, failedAt, versions,
    latencyMs: { p50: pct(50), p99: pct(99), max: pct(100) }, resolveErrors,
  }) + "\\n");
  process.exit(0);
}
process.on("SIGTERM", () => {
  stoppedAt = Date.now();
  stopping = true;
  for (const wake of [...sleepers]) wake();
});
main();
`;

export interface RunningContainerLoad {
  /** Stops the load (SIGTERM), waits for its report. */
  stop(): Promise<LoadReport>;
  /** Kills it without a report (cleanup after a failure). */
  abort(): Promise<void>;
}

/** A folder holding the script, for the host and to bind-mount read-only into a container. */
export function writeLoadScript(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "baton-bench-load-"));
  writeFileSync(join(dir, "load.cjs"), SCRIPT);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function collect(
  child: ChildProcess,
  what: string,
): { firstServed: Promise<void>; report: Promise<LoadReport> } {
  let stdout = "";
  let stderr = "";
  let sawFirst = false;
  let onFirst: () => void = () => {};
  const firstServed = new Promise<void>((res) => {
    onFirst = res;
  });
  child.stdout?.on("data", (c: Buffer) => (stdout += c));
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c;
    if (!sawFirst && stderr.includes("first-served")) {
      sawFirst = true;
      onFirst();
    }
  });
  const report = new Promise<LoadReport>((res, rej) => {
    child.on("error", rej);
    child.on("close", (code) => {
      const line = stdout.trim().split("\n").at(-1) ?? "";
      try {
        res(JSON.parse(line) as LoadReport);
      } catch {
        rej(new Error(`${what} exited ${code} without a report: ${stdout}${stderr}`));
      }
    });
  });
  report.catch(() => {}); // observed by stop()
  return { firstServed, report };
}

async function untilServed(first: Promise<void>, report: Promise<LoadReport>, what: string) {
  let served = false;
  void first.then(() => (served = true));
  let ended = false;
  report.then(
    () => (ended = true),
    () => (ended = true),
  );
  await waitFor(() => served || ended, `${what} to get its first answer`, 30_000, 20);
  if (!served) await report; // rejects with the output, or reports a run that ended early
}

/** The load as a process on this host (toward Baton's proxy on 127.0.0.1). */
export async function startHostLoad(
  scriptDir: string,
  settings: LoadSettings,
): Promise<RunningContainerLoad> {
  const child = spawn(process.execPath, [join(scriptDir, "load.cjs"), JSON.stringify(settings)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const { firstServed, report } = collect(child, "the load");
  await untilServed(firstServed, report, "the load");
  return {
    async stop() {
      child.kill("SIGTERM");
      return report;
    },
    async abort() {
      child.kill("SIGKILL");
      await report.catch(() => undefined);
    },
  };
}

/**
 * The load in a container of `image` on `network` (a Swarm service's attachable overlay),
 * named `name` and labelled `labels`; the script's folder is mounted read-only.
 */
export async function startContainerLoad(
  scriptDir: string,
  settings: LoadSettings,
  opts: {
    readonly image: string;
    readonly network: string;
    readonly name: string;
    readonly labels: readonly string[];
  },
): Promise<RunningContainerLoad> {
  const child = spawn(
    "docker",
    [
      "run",
      "--rm",
      "--name",
      opts.name,
      ...opts.labels.flatMap((l) => ["--label", l]),
      "--network",
      opts.network,
      "--volume",
      `${scriptDir}:/load:ro`,
      opts.image,
      process.execPath,
      "/load/load.cjs",
      JSON.stringify(settings),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const { firstServed, report } = collect(child, `the load container ${opts.name}`);
  const remove = () => docker(["rm", "-f", opts.name]).catch(() => "");
  try {
    await untilServed(firstServed, report, `the load container ${opts.name}`);
  } catch (error) {
    await remove();
    throw error;
  }
  return {
    async stop() {
      await docker(["kill", "--signal", "TERM", opts.name]).catch(() => "");
      try {
        return await report;
      } finally {
        await remove();
      }
    },
    async abort() {
      await remove();
      await report.catch(() => undefined);
    },
  };
}
