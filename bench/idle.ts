/**
 * Idle cost: what the manager itself uses while 50 apps × 2 replicas run and nothing happens.
 *
 * The same tiny Node HTTP app, 50 apps of 2 replicas each: under Baton (each app with a public
 * `port`, so its proxy serves 50 ports, and its default implicit readiness check), then under
 * PM2 (50 names × 2 instances in fork mode, `increment_var: PORT`). One after the other, never
 * both at once. Once all is up (Baton's `wait` converged, PM2 lists all online, every port
 * answers) and the CPU has settled, `windows` windows of `windowS` seconds each measure, from
 * /proc, the CPU % (utime+stime delta / wall time; 100 = one core) and RSS of Baton's
 * controller, Baton's proxy and their sum, and of PM2's daemon (God). The replicas are the same
 * app under both, so they are left out of the comparison; their total RSS is reported for
 * information.
 *
 *   node --import tsx bench/idle.ts [--apps 50] [--replicas 2] [--windows 3] [--window 10]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BatonProject, type ControllerStatus } from "./lib/baton-cli.js";
import { getOnce } from "./lib/http-get.js";
import type { Pm2Machine } from "./lib/machine.js";
import { freePorts } from "./lib/net.js";
import { Pm2, type Pm2Process } from "./lib/pm2.js";
import { freePortRuns } from "./lib/ports.js";
import { alive, childrenOf, cpuOver, rssMib, waitGone } from "./lib/procfs.js";
import { ratio, round, type Summary, summarize } from "./lib/stats.js";
import { markdownTable, writeResults } from "./lib/table.js";
import { writeTinyApp } from "./lib/tiny-app.js";
import { waitFor } from "./lib/wait.js";
import { ensurePm2, pm2Version } from "./peers.js";

export interface IdleOptions {
  readonly apps?: number;
  readonly replicas?: number;
  /** Measurement windows, and the length of each in seconds. */
  readonly windows?: number;
  readonly windowS?: number;
  readonly resultsDir?: string;
  readonly log?: (line: string) => void;
}

export interface Component {
  /** e.g. "controller", "proxy", "total" (Baton), "daemon" (PM2). */
  readonly name: string;
  readonly pids: readonly number[];
  /** % of one core, one sample per window. */
  readonly cpuPct: Summary;
  /** MiB, sampled at the end of each window. */
  readonly rssMib: Summary;
}

export interface IdleSide {
  readonly name: "baton" | "pm2";
  /** Start → every replica answers on its port, in seconds (information). */
  readonly startS: number;
  /** Seconds spent waiting for the CPU to settle before measuring. */
  readonly settleS: number;
  readonly components: readonly Component[];
  /** The app processes themselves (the same app under both): information. */
  readonly replicas: {
    readonly count: number;
    readonly cpuPct: Summary;
    readonly rssMib: Summary;
  };
}

export interface IdleResult {
  readonly name: "idle";
  readonly at: string;
  readonly machine: Pm2Machine;
  readonly settings: {
    readonly apps: number;
    readonly replicas: number;
    readonly windows: number;
    readonly windowS: number;
  };
  readonly sides: readonly IdleSide[];
  /** PM2 daemon / Baton (controller + proxy), of the medians: above 1, Baton is lighter. */
  readonly ratios: { readonly cpu: number; readonly rss: number };
}

const SETTLE_WINDOW_MS = 2_000;
const SETTLE_MAX_MS = 60_000;

/** `now` is no longer clearly below `before`: what was still falling after start-up has stopped. */
function steady(before: number, now: number): boolean {
  return now >= before * 0.8 - 0.5;
}

/**
 * Waits, bounded, until start-up is over: the CPU of the manager and that of the replicas both
 * stopped falling from one 2 s window to the next (they need not reach zero: PM2's replicas,
 * for one, report metrics to its daemon all the time). Returns the seconds it took.
 */
async function settle(
  manager: readonly number[],
  replicas: readonly number[],
  log: (line: string) => void,
): Promise<number> {
  const t0 = Date.now();
  let before = { m: Number.POSITIVE_INFINITY, r: Number.POSITIVE_INFINITY };
  while (Date.now() - t0 < SETTLE_MAX_MS) {
    const cpu = await cpuOver({ manager, replicas }, SETTLE_WINDOW_MS);
    const now = { m: cpu.manager ?? 0, r: cpu.replicas ?? 0 };
    log(`  settling: manager ${now.m.toFixed(1)}% replicas ${now.r.toFixed(1)}%`);
    if (steady(before.m, now.m) && steady(before.r, now.r)) break;
    before = now;
  }
  return (Date.now() - t0) / 1_000;
}

async function measure(
  groups: Readonly<Record<string, readonly number[]>>,
  windows: number,
  windowS: number,
  log: (line: string) => void,
): Promise<{ cpu: Record<string, number[]>; rss: Record<string, number[]> }> {
  const cpu: Record<string, number[]> = {};
  const rss: Record<string, number[]> = {};
  for (const name of Object.keys(groups)) {
    cpu[name] = [];
    rss[name] = [];
  }
  for (let w = 0; w < windows; w++) {
    const sample = await cpuOver(groups, windowS * 1_000);
    const parts: string[] = [];
    for (const [name, pids] of Object.entries(groups)) {
      const c = sample[name] ?? 0;
      const m = rssMib(pids);
      cpu[name]?.push(c);
      rss[name]?.push(m);
      parts.push(`${name} ${c.toFixed(2)}% ${m.toFixed(1)} MiB`);
    }
    log(`  window ${w + 1}/${windows}: ${parts.join(", ")}`);
  }
  return { cpu, rss };
}

async function everyPortAnswers(ports: readonly number[]): Promise<boolean> {
  const answers = await Promise.all(ports.map((p) => getOnce(p, 2_000)));
  return answers.every((a) => a.ok && a.status === 200);
}

function component(
  name: string,
  pids: readonly number[],
  m: { cpu: Record<string, number[]>; rss: Record<string, number[]> },
  key = name,
): Component {
  return {
    name,
    pids,
    cpuPct: summarize(m.cpu[key] ?? []),
    rssMib: summarize(m.rss[key] ?? []),
  };
}

function batonYaml(appCount: number, replicas: number, ports: readonly number[]): string {
  const apps = Array.from({ length: appCount }, (_, i) => {
    const name = `app-${String(i).padStart(2, "0")}`;
    return `  ${name}:
    command: ["node", "server.js"]
    cwd: .
    replicas: ${replicas}
    port: ${ports[i]}`;
  });
  return `project: bench-idle\napps:\n${apps.join("\n")}\n`;
}

async function batonSide(
  work: string,
  o: Required<Omit<IdleOptions, "resultsDir" | "log">>,
  log: (line: string) => void,
): Promise<IdleSide> {
  const dir = join(work, "baton");
  mkdirSync(dir);
  writeTinyApp(dir);
  const ports = await freePorts(o.apps);
  const project = new BatonProject(dir);
  writeFileSync(project.file, batonYaml(o.apps, o.replicas, ports));
  let status: ControllerStatus | undefined;
  try {
    const t0 = Date.now();
    status = await project.up(300);
    await waitFor(() => everyPortAnswers(ports), "every Baton app port to answer", 60_000, 200);
    const startS = (Date.now() - t0) / 1_000;
    status = await project.status();
    const controller = status.controller.pid;
    const proxy = status.controller.proxyPid;
    if (proxy === null) throw new Error("baton status shows no proxy pid");
    const replicaPids = status.apps.flatMap((a) =>
      a.replicas.map((r) => r.pid).filter((p): p is number => p !== null),
    );
    if (replicaPids.length !== o.apps * o.replicas) {
      throw new Error(`baton: ${replicaPids.length} replicas run, ${o.apps * o.replicas} wanted`);
    }
    log(
      `baton: ${replicaPids.length} replicas up in ${startS.toFixed(1)} s; controller ${controller}, proxy ${proxy}`,
    );
    const settleS = await settle([controller, proxy], replicaPids, log);
    const m = await measure(
      {
        controller: [controller],
        proxy: [proxy],
        total: [controller, proxy],
        replicas: replicaPids,
      },
      o.windows,
      o.windowS,
      log,
    );
    return {
      name: "baton",
      startS,
      settleS,
      components: [
        component("controller", [controller], m),
        component("proxy", [proxy], m),
        component("total", [controller, proxy], m),
      ],
      replicas: {
        count: replicaPids.length,
        cpuPct: summarize(m.cpu.replicas ?? []),
        rssMib: summarize(m.rss.replicas ?? []),
      },
    };
  } finally {
    const t0 = Date.now();
    await project.down(status, log);
    const mine = status
      ? [
          status.controller.pid,
          ...(status.controller.proxyPid === null ? [] : [status.controller.proxyPid]),
          ...status.apps.flatMap((a) =>
            a.replicas.map((r) => r.pid).filter((p): p is number => p !== null),
          ),
        ]
      : [];
    const left = await waitGone(mine, 15_000);
    if (left.length > 0) log(`warning: ${left.length} Baton processes still run after baton down`);
    log(`baton down in ${((Date.now() - t0) / 1_000).toFixed(1)} s`);
  }
}

async function pm2Side(
  work: string,
  o: Required<Omit<IdleOptions, "resultsDir" | "log">>,
  log: (line: string) => void,
): Promise<IdleSide> {
  const dir = join(work, "pm2");
  mkdirSync(dir);
  writeTinyApp(dir);
  const bases = await freePortRuns(o.apps, o.replicas);
  const ports = bases.flatMap((b) => Array.from({ length: o.replicas }, (_, i) => b + i));
  const ecosystem = join(dir, "apps.json");
  writeFileSync(
    ecosystem,
    JSON.stringify({
      apps: bases.map((base, i) => ({
        name: `app-${String(i).padStart(2, "0")}`,
        script: join(dir, "server.js"),
        cwd: dir,
        exec_mode: "fork",
        instances: o.replicas,
        increment_var: "PORT",
        env: { PORT: base },
      })),
    }),
  );
  const pm2 = new Pm2(ensurePm2(log), join(work, "pm2-home"));
  let list: Pm2Process[] = [];
  try {
    const t0 = Date.now();
    await pm2.run(["start", ecosystem], 300_000);
    const want = o.apps * o.replicas;
    await waitFor(
      async () => {
        list = await pm2.jlist();
        return list.length === want && list.every((p) => p.pm2_env.status === "online");
      },
      `PM2 to list ${want} processes online`,
      300_000,
      500,
    );
    await waitFor(() => everyPortAnswers(ports), "every PM2 app port to answer", 60_000, 200);
    const startS = (Date.now() - t0) / 1_000;
    list = await pm2.jlist();
    const daemon = pm2.daemonPid();
    if (daemon === undefined) throw new Error(`no PM2 daemon pid in ${pm2.home}/pm2.pid`);
    const replicaPids = list.map((p) => p.pid);
    // Anything else the daemon runs (none by default) counts as PM2's own.
    const others = childrenOf(daemon).filter((p) => !replicaPids.includes(p));
    const own = [daemon, ...others];
    log(
      `pm2 ${pm2Version()}: ${replicaPids.length} processes up in ${startS.toFixed(1)} s; daemon ${daemon}${others.length > 0 ? `, other processes ${others.join(" ")}` : ""}`,
    );
    const settleS = await settle(own, replicaPids, log);
    const m = await measure({ daemon: own, replicas: replicaPids }, o.windows, o.windowS, log);
    return {
      name: "pm2",
      startS,
      settleS,
      components: [component("daemon", own, m)],
      replicas: {
        count: replicaPids.length,
        cpuPct: summarize(m.cpu.replicas ?? []),
        rssMib: summarize(m.rss.replicas ?? []),
      },
    };
  } finally {
    const t0 = Date.now();
    const pids = list.map((p) => p.pid).filter((p) => p > 0);
    await pm2.kill(pids, log);
    const left = pids.filter(alive);
    if (left.length > 0) log(`warning: ${left.length} PM2 processes still run after pm2 kill`);
    log(`pm2 kill in ${((Date.now() - t0) / 1_000).toFixed(1)} s`);
  }
}

export async function idleBench(opts: IdleOptions = {}): Promise<IdleResult> {
  const o = {
    apps: opts.apps ?? 50,
    replicas: opts.replicas ?? 2,
    windows: opts.windows ?? 3,
    windowS: opts.windowS ?? 10,
  };
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const loadBefore = loadavg()[0] ?? 0;
  ensurePm2(log);
  const work = mkdtempSync(join(tmpdir(), "baton-bench-idle-"));
  try {
    const baton = await batonSide(work, o, log);
    const pm2 = await pm2Side(work, o, log);
    const batonTotal = baton.components.find((c) => c.name === "total") as Component;
    const pm2Daemon = pm2.components[0] as Component;
    const result: IdleResult = {
      name: "idle",
      at: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        node: process.version,
        pm2: pm2Version(),
        load: [round(loadBefore), round(loadavg()[0] ?? 0)],
      },
      settings: o,
      sides: [baton, pm2],
      ratios: {
        cpu: ratio(pm2Daemon.cpuPct, batonTotal.cpuPct),
        rss: ratio(pm2Daemon.rssMib, batonTotal.rssMib),
      },
    };
    const paths = writeResults("idle", renderIdleMarkdown(result), result, opts.resultsDir);
    log(`results: ${paths.markdown}`);
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function range(s: Summary, digits: number): string {
  const f = (x: number) => x.toFixed(digits);
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

export function renderIdleMarkdown(r: IdleResult): string {
  const label: Record<string, string> = {
    "baton/controller": "Baton controller",
    "baton/proxy": "Baton proxy",
    "baton/total": "**Baton controller + proxy**",
    "pm2/daemon": "**PM2 daemon (God)**",
  };
  const rows = r.sides.flatMap((side) =>
    side.components.map((c) => [
      label[`${side.name}/${c.name}`] ?? `${side.name} ${c.name}`,
      range(c.cpuPct, 2),
      range(c.rssMib, 1),
    ]),
  );
  const info = r.sides.map((side) => [
    side.name === "baton" ? "Baton" : "PM2",
    side.replicas.count,
    range(side.replicas.rssMib, 0),
    range(side.replicas.cpuPct, 2),
    side.startS.toFixed(1),
    side.settleS.toFixed(0),
  ]);
  const x = (v: number) => `${round(v)}×`;
  return `# Idle benchmark

${r.at} — ${r.machine.cpus} CPUs, Node ${r.machine.node}, PM2 ${r.machine.pm2}; load average ${r.machine.load[0]} before, ${r.machine.load[1]} after

${r.settings.apps} apps × ${r.settings.replicas} replicas of a tiny Node HTTP app, nothing calling them; Baton (${r.settings.apps} public ports on its proxy, default readiness) and PM2 (fork mode) one after the other. After start-up settles, ${r.settings.windows} windows of ${r.settings.windowS} s: CPU from /proc utime+stime (% of one core), RSS (VmRSS) at the end of each window. Median (min–max).

${markdownTable(["process", "CPU %", "RSS MiB"], rows)}

| ratio (PM2 daemon / Baton controller + proxy) | value |
| --- | --- |
| CPU | ${x(r.ratios.cpu)} |
| RSS | ${x(r.ratios.rss)} |

Above 1: Baton costs less than PM2 while idle; below 1, more.

For information — the replicas themselves (the same app under both; PM2 runs each inside its own wrapper):

${markdownTable(["manager", "replicas", "their RSS MiB", "their CPU %", "start → all answer s", "settle s"], info)}
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      apps: { type: "string", default: "50" },
      replicas: { type: "string", default: "2" },
      windows: { type: "string", default: "3" },
      window: { type: "string", default: "10" },
    },
  });
  idleBench({
    apps: Number(values.apps),
    replicas: Number(values.replicas),
    windows: Number(values.windows),
    windowS: Number(values.window),
  }).then(
    (r) => process.stdout.write(renderIdleMarkdown(r)),
    (err: unknown) => {
      process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
