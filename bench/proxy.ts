/**
 * Baton's proxy against HAProxy and against no proxy at all.
 *
 * Three tiny Node HTTP backends; Baton's proxy (an HTTP and a TCP route over them) and
 * HAProxy (`mode http` keep-alive and `mode tcp`, one thread) in front of the same three;
 * `wrk -t1 -c16 --latency` against each target, repeats interleaved so drift of the
 * machine spreads over all targets alike. Needs `npx tsc -p tsconfig.json` (the proxy
 * runs from dist/), `haproxy` and `wrk`.
 *
 *   node --import tsx bench/proxy.ts [--duration 5] [--repeats 3]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ProxyClient } from "../src/apps/proxy/index.js";
import { startHttpBackend } from "./lib/http-backend.js";
import { freePorts } from "./lib/net.js";
import { type Started, startProcess } from "./lib/process.js";
import { ratio, round, type Summary, summarize } from "./lib/stats.js";
import { markdownTable, writeResults } from "./lib/table.js";
import { waitForPort } from "./lib/wait.js";
import { runWrk, type WrkResult } from "./lib/wrk.js";

export interface ProxyBenchOptions {
  /** Seconds of each wrk run. */
  readonly durationS?: number;
  readonly repeats?: number;
  readonly connections?: number;
  readonly backends?: number;
  /** Where proxy.md / proxy.json go; bench/results by default. */
  readonly resultsDir?: string;
  readonly log?: (line: string) => void;
}

export type TargetName = "direct" | "baton-http" | "haproxy-http" | "baton-tcp" | "haproxy-tcp";

export interface TargetResult {
  readonly name: TargetName;
  readonly rps: Summary;
  readonly p50Ms: Summary;
  readonly p99Ms: Summary;
  readonly errors: number;
}

export interface BenchResult {
  readonly name: "proxy";
  readonly at: string;
  readonly machine: {
    readonly cpus: number;
    readonly node: string;
    readonly haproxy: string;
    /** 1-minute load average before and after: other work on the machine skews results. */
    readonly load: readonly [number, number];
  };
  readonly settings: {
    readonly durationS: number;
    readonly repeats: number;
    readonly connections: number;
    readonly backends: number;
  };
  readonly targets: readonly TargetResult[];
  /** Baton / HAProxy of the median req/s, and Baton − HAProxy of the median p99 (ms). */
  readonly ratios: {
    readonly httpThroughput: number;
    readonly tcpThroughput: number;
    readonly httpP99DeltaMs: number;
    readonly tcpP99DeltaMs: number;
  };
  readonly goals: {
    readonly httpThroughput: { readonly goal: number; readonly met: boolean };
    readonly tcpThroughput: { readonly goal: number; readonly met: boolean };
    readonly p99WithinMs: { readonly goal: number; readonly met: boolean };
  };
}

const PROXY_ENTRY = resolve(import.meta.dirname, "../dist/apps/proxy/main.js");

function haproxyConfig(httpPort: number, tcpPort: number, backends: readonly number[]): string {
  const servers = backends.map((p, i) => `  server b${i} 127.0.0.1:${p}`).join("\n");
  return `global
  nbthread 1
  maxconn 4096

defaults
  timeout connect 5s
  timeout client 30s
  timeout server 30s

frontend http_in
  mode http
  option http-keep-alive
  bind 127.0.0.1:${httpPort}
  default_backend http_pool

backend http_pool
  mode http
  option http-keep-alive
  balance roundrobin
${servers}

frontend tcp_in
  mode tcp
  bind 127.0.0.1:${tcpPort}
  default_backend tcp_pool

backend tcp_pool
  mode tcp
  balance roundrobin
${servers}
`;
}

export async function proxyBench(opts: ProxyBenchOptions = {}): Promise<BenchResult> {
  const durationS = opts.durationS ?? 5;
  const repeats = opts.repeats ?? 3;
  const connections = opts.connections ?? 16;
  const backendCount = opts.backends ?? 3;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));

  const loadBefore = loadavg()[0] ?? 0;
  const work = mkdtempSync(join(tmpdir(), "baton-bench-proxy-"));
  const started: Started[] = [];
  let proxy: ProxyClient | undefined;
  try {
    const ports = await freePorts(backendCount + 4);
    const backendPorts = ports.slice(0, backendCount);
    const [batonHttp, batonTcp, haproxyHttp, haproxyTcp] = ports.slice(backendCount) as [
      number,
      number,
      number,
      number,
    ];
    for (const port of backendPorts) {
      started.push(await startHttpBackend(port, join(work, "backends.log")));
    }
    log(`backends on ${backendPorts.join(", ")}`);

    proxy = await ProxyClient.ensure(join(work, "state"), { entry: PROXY_ENTRY });
    const pool = backendPorts.map((port, i) => ({ id: `b${i}`, host: "127.0.0.1", port }));
    await proxy.setRoute("bench-http", { port: batonHttp, protocol: "http", backends: pool });
    await proxy.setRoute("bench-tcp", { port: batonTcp, protocol: "tcp", backends: pool });
    log(`baton proxy pid ${proxy.pid}: http ${batonHttp}, tcp ${batonTcp}`);

    const cfg = join(work, "haproxy.cfg");
    writeFileSync(cfg, haproxyConfig(haproxyHttp, haproxyTcp, backendPorts));
    started.push(
      startProcess("haproxy", "haproxy", ["-f", cfg, "-db"], {
        logFile: join(work, "haproxy.log"),
      }),
    );
    await waitForPort(haproxyHttp, "haproxy http");
    await waitForPort(haproxyTcp, "haproxy tcp");
    log(`haproxy: http ${haproxyHttp}, tcp ${haproxyTcp}`);

    const targets: ReadonlyArray<readonly [TargetName, string]> = [
      ["direct", `http://127.0.0.1:${backendPorts[0]}/`],
      ["baton-http", `http://127.0.0.1:${batonHttp}/`],
      ["haproxy-http", `http://127.0.0.1:${haproxyHttp}/`],
      ["baton-tcp", `http://127.0.0.1:${batonTcp}/`],
      ["haproxy-tcp", `http://127.0.0.1:${haproxyTcp}/`],
    ];
    // Warm up every path (JIT, connection pools) before anything counts.
    for (const [, url] of targets) await runWrk({ url, connections, durationS: 1 });

    const runs = new Map<TargetName, WrkResult[]>(targets.map(([name]) => [name, []]));
    for (let r = 0; r < repeats; r++) {
      for (const [name, url] of targets) {
        const result = await runWrk({ url, connections, durationS });
        runs.get(name)?.push(result);
        log(
          `run ${r + 1}/${repeats} ${name.padEnd(12)} ${Math.round(result.requestsPerSec)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  errors ${result.errors}`,
        );
      }
    }

    const results: TargetResult[] = targets.map(([name]) => {
      const list = runs.get(name) ?? [];
      return {
        name,
        rps: summarize(list.map((w) => w.requestsPerSec)),
        p50Ms: summarize(list.map((w) => w.p50)),
        p99Ms: summarize(list.map((w) => w.p99)),
        errors: list.reduce((sum, w) => sum + w.errors, 0),
      };
    });
    const by = (n: TargetName) => results.find((t) => t.name === n) as TargetResult;
    const ratios = {
      httpThroughput: ratio(by("baton-http").rps, by("haproxy-http").rps),
      tcpThroughput: ratio(by("baton-tcp").rps, by("haproxy-tcp").rps),
      httpP99DeltaMs: by("baton-http").p99Ms.median - by("haproxy-http").p99Ms.median,
      tcpP99DeltaMs: by("baton-tcp").p99Ms.median - by("haproxy-tcp").p99Ms.median,
    };
    let haproxyVersion = "unknown";
    try {
      haproxyVersion = execFileSync("haproxy", ["-v"], { encoding: "utf8" }).split("\n")[0] ?? "";
    } catch {
      // Reported as unknown.
    }
    const result: BenchResult = {
      name: "proxy",
      at: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        node: process.version,
        haproxy: haproxyVersion,
        load: [round(loadBefore), round(loadavg()[0] ?? 0)],
      },
      settings: { durationS, repeats, connections, backends: backendCount },
      targets: results,
      ratios,
      goals: {
        httpThroughput: { goal: 0.6, met: ratios.httpThroughput >= 0.6 },
        tcpThroughput: { goal: 0.9, met: ratios.tcpThroughput >= 0.9 },
        p99WithinMs: {
          goal: 2,
          met: ratios.httpP99DeltaMs <= 2 && ratios.tcpP99DeltaMs <= 2,
        },
      },
    };
    const paths = writeResults("proxy", renderMarkdown(result), result, opts.resultsDir);
    log(`results: ${paths.markdown}`);
    return result;
  } finally {
    await proxy?.stop(15_000).catch((err: unknown) => log(`stopping the proxy: ${String(err)}`));
    for (const s of started.reverse()) await s.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

function range(s: Summary, unit = ""): string {
  return `${round(s.median)}${unit} (${round(s.min)}–${round(s.max)})`;
}

export function renderMarkdown(r: BenchResult): string {
  const rows = r.targets.map((t) => [
    t.name,
    range(t.rps),
    range(t.p50Ms),
    range(t.p99Ms),
    t.errors,
  ]);
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const mark = (met: boolean) => (met ? "met" : "NOT met");
  return `# Proxy benchmark

${r.at} — ${r.machine.cpus} CPUs, Node ${r.machine.node}, ${r.machine.haproxy}; load average ${r.machine.load[0]} before, ${r.machine.load[1]} after (other work on the machine makes every figure noisier)

\`wrk -t1 -c${r.settings.connections} -d${r.settings.durationS}s --latency\`, ${r.settings.repeats} runs per target interleaved; ${r.settings.backends} tiny Node HTTP backends behind each proxy (direct = one backend, no proxy). Median (min–max).

${markdownTable(["target", "req/s", "p50 ms", "p99 ms", "errors"], rows)}

| ratio | value | goal |
| --- | --- | --- |
| Baton HTTP / HAProxy HTTP throughput | ${pct(r.ratios.httpThroughput)} | ≥ ${pct(r.goals.httpThroughput.goal)}: ${mark(r.goals.httpThroughput.met)} |
| Baton TCP / HAProxy TCP throughput | ${pct(r.ratios.tcpThroughput)} | ≥ ${pct(r.goals.tcpThroughput.goal)}: ${mark(r.goals.tcpThroughput.met)} |
| Baton − HAProxy p99, HTTP | ${round(r.ratios.httpP99DeltaMs)} ms | ≤ ${r.goals.p99WithinMs.goal} ms: ${mark(r.ratios.httpP99DeltaMs <= r.goals.p99WithinMs.goal)} |
| Baton − HAProxy p99, TCP | ${round(r.ratios.tcpP99DeltaMs)} ms | ≤ ${r.goals.p99WithinMs.goal} ms: ${mark(r.ratios.tcpP99DeltaMs <= r.goals.p99WithinMs.goal)} |
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      duration: { type: "string", default: "5" },
      repeats: { type: "string", default: "3" },
    },
  });
  proxyBench({ durationS: Number(values.duration), repeats: Number(values.repeats) }).then(
    (r) => process.stdout.write(renderMarkdown(r)),
    (err: unknown) => {
      process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
