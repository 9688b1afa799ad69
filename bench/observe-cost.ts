/**
 * What observing costs: the controller with metrics sampled every second against the same
 * controller with sampling off, and the proxy's throughput with its golden signals counted
 * (and read through `/stats` every second, as the sampler does) against the proxy with
 * `--metrics off`. Goal: under 5 % either way.
 *
 * Controller: 50 apps × 2 tiny process replicas (100 monitored replicas), `baton up` once
 * with BATON_METRICS_INTERVAL=1000 and once with 0, one after the other; after start-up
 * has settled, `windows` windows of `windowS` seconds measure the controller's CPU % and
 * RSS from /proc. Proxy: one HTTP route over three tiny backends, `wrk -t1 -c16` runs of
 * `durationS` seconds, metrics on and off interleaved.
 *
 *   node --import tsx bench/observe-cost.ts [--quick] [--apps 50] [--windows 6] [--window 10]
 *     [--duration 10] [--repeats 3]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ProxyClient } from "../src/apps/proxy/index.js";
import { BatonProject, type ControllerStatus } from "./lib/baton-cli.js";
import { startHttpBackend } from "./lib/http-backend.js";
import { freePorts } from "./lib/net.js";
import type { Started } from "./lib/process.js";
import { cpuOver, rssMib, waitGone } from "./lib/procfs.js";
import { round, type Summary, summarize } from "./lib/stats.js";
import { markdownTable, writeResults } from "./lib/table.js";
import { writeTinyApp } from "./lib/tiny-app.js";
import { runWrk } from "./lib/wrk.js";

const PROXY_ENTRY = resolve(import.meta.dirname, "../dist/apps/proxy/main.js");
/** The cost goal: observing takes less than this share more (CPU) or less (throughput). */
const GOAL = 0.05;

export interface ObserveCostOptions {
  readonly apps?: number;
  readonly replicas?: number;
  readonly windows?: number;
  readonly windowS?: number;
  readonly durationS?: number;
  readonly repeats?: number;
  /** Read the proxy's /stats every second while it counts, as the sampler does (default true). */
  readonly pollStats?: boolean;
  readonly resultsDir?: string;
  readonly log?: (line: string) => void;
}

export interface ControllerSide {
  readonly sampling: "on" | "off";
  readonly cpuPct: Summary;
  readonly rssMib: Summary;
}

export interface ObserveCostResult {
  readonly name: "observe-cost";
  readonly at: string;
  readonly machine: {
    readonly cpus: number;
    readonly node: string;
    readonly load: readonly [number, number];
  };
  readonly settings: Required<Omit<ObserveCostOptions, "resultsDir" | "log">>;
  readonly controller: readonly ControllerSide[];
  readonly proxy: { readonly metricsOn: Summary; readonly metricsOff: Summary };
  readonly ratios: {
    /** Controller CPU, percentage points added by sampling (of one core). */
    readonly controllerCpuPointsAdded: number;
    /** Controller RSS on / off. */
    readonly controllerRss: number;
    /** Proxy req/s on / off: 1 = no cost. */
    readonly proxyThroughput: number;
  };
  readonly goals: {
    readonly proxyThroughput: { readonly goal: number; readonly met: boolean };
    readonly controllerCpu: { readonly goal: number; readonly met: boolean };
  };
}

function yaml(apps: number, replicas: number): string {
  const lines = Array.from(
    { length: apps },
    (_, i) => `  app-${String(i).padStart(2, "0")}:
    command: ["node", "server.js"]
    replicas: ${replicas}`,
  );
  return `project: bench-observe\napps:\n${lines.join("\n")}\n`;
}

/** Waits (bounded) until the controller's CPU stops falling between 2 s windows. */
async function settle(pid: number, log: (line: string) => void): Promise<void> {
  let before = Number.POSITIVE_INFINITY;
  const t0 = Date.now();
  while (Date.now() - t0 < 60_000) {
    const now = (await cpuOver({ c: [pid] }, 2_000)).c ?? 0;
    log(`  settling: controller ${now.toFixed(1)}%`);
    if (now >= before * 0.8 - 0.5) return;
    before = now;
  }
}

async function controllerSide(
  work: string,
  sampling: "on" | "off",
  o: Required<Omit<ObserveCostOptions, "resultsDir" | "log">>,
  log: (line: string) => void,
): Promise<ControllerSide> {
  const dir = join(work, `controller-${sampling}`);
  mkdirSync(dir);
  writeTinyApp(dir);
  const project = new BatonProject(dir);
  writeFileSync(project.file, yaml(o.apps, o.replicas));
  // The detached controller inherits the CLI's environment.
  const previous = process.env.BATON_METRICS_INTERVAL;
  process.env.BATON_METRICS_INTERVAL = sampling === "on" ? "1000" : "0";
  let status: ControllerStatus | undefined;
  try {
    status = await project.up(300);
    const pid = status.controller.pid;
    log(`controller sampling ${sampling}: pid ${pid}, ${o.apps * o.replicas} replicas up`);
    await settle(pid, log);
    const cpu: number[] = [];
    const rss: number[] = [];
    for (let w = 0; w < o.windows; w++) {
      const c = (await cpuOver({ c: [pid] }, o.windowS * 1_000)).c ?? 0;
      const m = rssMib([pid]);
      cpu.push(c);
      rss.push(m);
      log(`  window ${w + 1}/${o.windows}: ${c.toFixed(2)}% ${m.toFixed(1)} MiB`);
    }
    return { sampling, cpuPct: summarize(cpu), rssMib: summarize(rss) };
  } finally {
    if (previous === undefined) delete process.env.BATON_METRICS_INTERVAL;
    else process.env.BATON_METRICS_INTERVAL = previous;
    await project.down(status, log);
    const pids = status
      ? [
          status.controller.pid,
          ...status.apps.flatMap((a) => a.replicas.map((r) => r.pid ?? 0)).filter((p) => p > 0),
        ]
      : [];
    await waitGone(pids, 15_000);
  }
}

/** req/s of the proxy with and without counting, runs interleaved. */
export async function proxySides(
  work: string,
  o: Required<Omit<ObserveCostOptions, "resultsDir" | "log">>,
  log: (line: string) => void,
): Promise<{ metricsOn: Summary; metricsOff: Summary }> {
  const started: Started[] = [];
  const proxies: ProxyClient[] = [];
  let poll: NodeJS.Timeout | undefined;
  try {
    const ports = await freePorts(5);
    const backendPorts = ports.slice(0, 3);
    for (const port of backendPorts) started.push(await startHttpBackend(port));
    const pool = backendPorts.map((port, i) => ({ id: `b${i}`, host: "127.0.0.1", port }));
    const urls: Record<"on" | "off", string> = { on: "", off: "" };
    for (const [side, port] of [
      ["on", ports[3]],
      ["off", ports[4]],
    ] as const) {
      const proxy = await ProxyClient.ensure(join(work, `proxy-${side}`), {
        entry: PROXY_ENTRY,
        metrics: side === "on",
      });
      proxies.push(proxy);
      await proxy.setRoute("bench", { port: port as number, protocol: "http", backends: pool });
      urls[side] = `http://127.0.0.1:${port}/`;
    }
    const counted = proxies[0] as ProxyClient;
    // The sampler reads the counting proxy's /stats every second.
    if (o.pollStats) poll = setInterval(() => void counted.stats().catch(() => undefined), 1_000);
    for (const url of Object.values(urls)) await runWrk({ url, connections: 16, durationS: 3 });
    const rps: Record<"on" | "off", number[]> = { on: [], off: [] };
    for (let r = 0; r < o.repeats; r++) {
      for (const side of r % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const)) {
        const result = await runWrk({ url: urls[side], connections: 16, durationS: o.durationS });
        rps[side].push(result.requestsPerSec);
        log(
          `run ${r + 1}/${o.repeats} proxy metrics ${side.padEnd(3)} ${Math.round(result.requestsPerSec)} req/s p99 ${result.p99} ms errors ${result.errors}`,
        );
      }
    }
    return { metricsOn: summarize(rps.on), metricsOff: summarize(rps.off) };
  } finally {
    clearInterval(poll);
    for (const p of proxies) await p.stop(15_000).catch(() => undefined);
    for (const s of started.reverse()) await s.stop();
  }
}

export async function observeCostBench(opts: ObserveCostOptions = {}): Promise<ObserveCostResult> {
  const o = {
    apps: opts.apps ?? 50,
    replicas: opts.replicas ?? 2,
    windows: opts.windows ?? 6,
    windowS: opts.windowS ?? 10,
    durationS: opts.durationS ?? 10,
    repeats: opts.repeats ?? 3,
    pollStats: opts.pollStats ?? true,
  };
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const loadBefore = loadavg()[0] ?? 0;
  const work = mkdtempSync(join(tmpdir(), "baton-bench-observe-"));
  try {
    const on = await controllerSide(work, "on", o, log);
    const off = await controllerSide(work, "off", o, log);
    const proxy = await proxySides(work, o, log);
    const cpuAdded = on.cpuPct.median - off.cpuPct.median;
    const throughput =
      proxy.metricsOff.median === 0 ? Number.NaN : proxy.metricsOn.median / proxy.metricsOff.median;
    const result: ObserveCostResult = {
      name: "observe-cost",
      at: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        node: process.version,
        load: [round(loadBefore), round(loadavg()[0] ?? 0)],
      },
      settings: o,
      controller: [on, off],
      proxy,
      ratios: {
        controllerCpuPointsAdded: round(cpuAdded),
        controllerRss: round(
          off.rssMib.median === 0 ? Number.NaN : on.rssMib.median / off.rssMib.median,
        ),
        proxyThroughput: round(throughput),
      },
      goals: {
        proxyThroughput: { goal: 1 - GOAL, met: throughput >= 1 - GOAL },
        // 5 % of one core: sampling 100 replicas every second must cost less.
        controllerCpu: { goal: GOAL * 100, met: cpuAdded < GOAL * 100 },
      },
    };
    const paths = writeResults(
      "observe-cost",
      renderObserveCostMarkdown(result),
      result,
      opts.resultsDir,
    );
    log(`results: ${paths.markdown}`);
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function renderObserveCostMarkdown(r: ObserveCostResult): string {
  const s = (x: Summary, digits = 1) =>
    `${x.median.toFixed(digits)} (${x.min.toFixed(digits)}–${x.max.toFixed(digits)})`;
  return [
    "## observe-cost — metrics sampling and proxy counting",
    "",
    `${r.at}, ${r.machine.cpus} CPUs, Node ${r.machine.node}, load ${r.machine.load[0]} → ${r.machine.load[1]}; ${r.settings.apps} apps × ${r.settings.replicas} replicas, ${r.settings.windows} × ${r.settings.windowS} s windows; wrk -c16 ${r.settings.repeats} × ${r.settings.durationS} s per side`,
    "",
    markdownTable(
      ["controller sampling", "CPU % of a core", "RSS MiB"],
      r.controller.map((c) => [c.sampling, s(c.cpuPct, 2), s(c.rssMib)]),
    ),
    "",
    markdownTable(
      ["proxy metrics", "req/s"],
      [
        ["on (+ /stats every 1 s)", s(r.proxy.metricsOn, 0)],
        ["off", s(r.proxy.metricsOff, 0)],
      ],
    ),
    "",
    `- controller CPU added by sampling: ${r.ratios.controllerCpuPointsAdded} points of one core (goal < ${r.goals.controllerCpu.goal}: ${r.goals.controllerCpu.met ? "met" : "NOT met"})`,
    `- controller RSS on / off: ${r.ratios.controllerRss}×`,
    `- proxy req/s on / off: ${r.ratios.proxyThroughput} (goal ≥ ${r.goals.proxyThroughput.goal}: ${r.goals.proxyThroughput.met ? "met" : "NOT met"})`,
    "",
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      apps: { type: "string" },
      windows: { type: "string" },
      window: { type: "string" },
      duration: { type: "string" },
      repeats: { type: "string" },
    },
  });
  const quick = values.quick === true;
  const num = (v: string | undefined, normal: number, small: number) =>
    v === undefined ? (quick ? small : normal) : Number(v);
  observeCostBench({
    apps: num(values.apps, 50, 10),
    windows: num(values.windows, 6, 2),
    windowS: num(values.window, 10, 5),
    durationS: num(values.duration, 10, 3),
    repeats: num(values.repeats, 3, 1),
    ...(quick ? { resultsDir: mkdtempSync(join(tmpdir(), "baton-bench-results-")) } : {}),
  }).then(
    (r) => process.stdout.write(renderObserveCostMarkdown(r)),
    (err: unknown) => {
      process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
