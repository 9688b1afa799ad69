/**
 * Recovery of the manager itself: how long from a SIGKILL of Baton's controller until it runs
 * and has converged again, and what the app's users see meanwhile.
 *
 * The app of the rollout benchmark (it answers "VERSION PID") runs as 4 replicas behind
 * Baton's proxy, under a steady keep-alive load (200 req/s over 4 connections) on the proxy
 * port. A trial reads the controller's pid from `baton status --json`, sends it SIGKILL,
 * waits until that pid is gone, then times `baton up -d` + `baton wait` (converged again).
 * Checked: exactly 4 replicas, the very same pids as before the kill (the new controller
 * adopts them; none is restarted), and the proxy the same process. The load runs from 1 s
 * before the kill to 1 s after `baton wait` returned: every failed request is counted.
 *
 * PM2 has no equivalent: its apps are children of its daemon and die with it (in cluster
 * mode they lose their master). For comparison, the same app as 4 PM2 cluster instances gets
 * the nearest thing: SIGKILL of PM2's daemon, then `pm2 resurrect` (from `pm2 save`) until
 * 4 new processes answer. That restarts the apps, so it is not the same thing: it says
 * what a dead manager costs users under PM2.
 *
 *   node --import tsx bench/recovery.ts [--trials 5] [--rate 200] [--no-pm2]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BatonProject, type ControllerStatus } from "./lib/baton-cli.js";
import { getOnce } from "./lib/http-get.js";
import { type LoadResult, startLoad } from "./lib/load.js";
import type { Pm2Machine, RateLoadSettings } from "./lib/machine.js";
import { freePorts } from "./lib/net.js";
import { Pm2 } from "./lib/pm2.js";
import { alive, waitGone } from "./lib/procfs.js";
import { round, type Summary, spread, summarize } from "./lib/stats.js";
import { markdownTable, writeResults } from "./lib/table.js";
import {
  parseAnswer,
  startPm2Cluster,
  type WebAppStatus,
  webApp,
  webAppYaml,
  webProcesses,
  writeVersionedApp,
} from "./lib/versioned-app.js";
import { ensurePm2, pm2Version } from "./peers.js";

export interface RecoveryOptions {
  readonly trials?: number;
  readonly replicas?: number;
  readonly ratePerS?: number;
  readonly connections?: number;
  readonly startDelayMs?: number;
  /** Load before the kill, and after recovery. */
  readonly padMs?: number;
  /** Also time PM2's daemon SIGKILL → `pm2 resurrect` (default true). */
  readonly pm2?: boolean;
  readonly resultsDir?: string;
  readonly log?: (line: string) => void;
}

export type Manager = "baton" | "pm2";

export interface RecoveryTrial {
  /** SIGKILL → the killed pid is gone, ms. */
  readonly goneMs: number;
  /** Baton: `baton up -d` wall time; PM2: `pm2 resurrect` wall time. */
  readonly upMs: number;
  /** Baton: `baton up -d` + `baton wait`; PM2: `pm2 resurrect` until 4 new processes answer. */
  readonly ms: number;
  readonly requests: number;
  readonly failed: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly achievedPerS: number;
  readonly maxLatencyMs: number;
  /** Replicas once recovered, and how many of them are the processes from before the kill. */
  readonly replicas: number;
  readonly kept: number;
  /** App processes of before the kill still alive once recovered (PM2: 0, they died). */
  readonly oldAlive: number;
  /** Baton: the proxy is the same process as before. */
  readonly proxyKept?: boolean;
  readonly converged: boolean;
}

export interface RecoverySide {
  readonly name: Manager;
  readonly ms: Summary;
  readonly upMs: Summary;
  readonly goneMs: Summary;
  readonly failed: Summary;
  readonly failedTotal: number;
  readonly requestsTotal: number;
  readonly achievedPerS: Summary;
  readonly maxLatencyMs: Summary;
  readonly errors: Readonly<Record<string, number>>;
  /** Trials where every replica was kept (same pids) and the app converged. */
  readonly adoptedTrials: number;
  readonly trials: readonly RecoveryTrial[];
}

export interface RecoveryResult {
  readonly name: "recovery";
  readonly at: string;
  readonly machine: Pm2Machine;
  readonly settings: RateLoadSettings;
  readonly sides: readonly RecoverySide[];
  readonly goal: { readonly text: string; readonly met: boolean };
}

const REQUEST_TIMEOUT_MS = 5_000;
const RECOVER_TIMEOUT_S = 60;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type AppStatus = WebAppStatus;

function replicaPids(app: AppStatus): number[] {
  return app.replicas.map((r) => r.pid).filter((p): p is number => p !== null);
}

interface TrialSettings {
  readonly replicas: number;
  readonly ratePerS: number;
  readonly connections: number;
  readonly padMs: number;
}

interface Recovered {
  readonly goneMs: number;
  readonly upMs: number;
  readonly ms: number;
  readonly oldAlive: number;
}

/** Load from padMs before `kill` to padMs after `recover` returned. */
async function underLoad(
  port: number,
  s: TrialSettings,
  oldPids: readonly number[],
  kill: () => Promise<number>,
  recover: () => Promise<{ upMs: number }>,
): Promise<Recovered & { load: LoadResult }> {
  const load = startLoad({
    port,
    ratePerS: s.ratePerS,
    connections: s.connections,
    maxDurationMs: 2 * RECOVER_TIMEOUT_S * 1_000 + 2 * s.padMs + 20_000,
    timeoutMs: REQUEST_TIMEOUT_MS,
  });
  let r: Recovered;
  try {
    await sleep(s.padMs);
    const goneMs = await kill();
    const t0 = performance.now();
    const { upMs } = await recover();
    r = { goneMs, upMs, ms: performance.now() - t0, oldAlive: oldPids.filter(alive).length };
    await sleep(s.padMs);
  } catch (error) {
    await load.stop(); // the load never outlives its trial
    throw error;
  }
  return { ...r, load: await load.stop() };
}

function trialOf(
  r: Recovered & { load: LoadResult },
  after: Omit<
    RecoveryTrial,
    keyof Recovered | "requests" | "failed" | "errors" | "achievedPerS" | "maxLatencyMs"
  >,
): RecoveryTrial {
  return {
    goneMs: r.goneMs,
    upMs: r.upMs,
    ms: r.ms,
    oldAlive: r.oldAlive,
    requests: r.load.requests,
    failed: r.load.failed,
    errors: r.load.errors,
    achievedPerS: r.load.achievedPerS,
    maxLatencyMs: r.load.latencyMs.max,
    ...after,
  };
}

async function sigkillAndWait(pid: number, what: string): Promise<number> {
  const t = performance.now();
  process.kill(pid, "SIGKILL");
  const left = await waitGone([pid], 10_000);
  if (left.length > 0) throw new Error(`${what} ${pid} still alive 10 s after SIGKILL`);
  return performance.now() - t;
}

async function batonTrial(
  project: BatonProject,
  port: number,
  s: TrialSettings,
  seen: Set<number>,
): Promise<{ trial: RecoveryTrial; status: ControllerStatus }> {
  const before = await project.status();
  const app0 = webApp(before);
  if (app0.state !== "converged" || app0.replicas.length !== s.replicas) {
    throw new Error(`baton: web is ${app0.state} with ${app0.replicas.length} replicas`);
  }
  const pids = replicaPids(app0);
  const controller = before.controller.pid;
  const run = await underLoad(
    port,
    s,
    pids,
    () => sigkillAndWait(controller, "controller"),
    async () => {
      const t = performance.now();
      await project.cli(["up", "--detach"], 60_000);
      const upMs = performance.now() - t;
      await project.cli(
        ["wait", "--timeout", `${RECOVER_TIMEOUT_S}s`],
        (RECOVER_TIMEOUT_S + 30) * 1_000,
      );
      return { upMs };
    },
  );
  const status = await project.status();
  seen.add(status.controller.pid);
  const app = webApp(status);
  const now = replicaPids(app);
  const trial = trialOf(run, {
    replicas: app.replicas.length,
    kept: now.filter((p) => pids.includes(p)).length,
    proxyKept:
      before.controller.proxyPid !== null &&
      status.controller.proxyPid === before.controller.proxyPid,
    converged: app.state === "converged",
  });
  return { trial, status };
}

/** Fresh GETs (bounded) until `count` distinct processes outside `old` have answered 200. */
async function newProcessesAnswer(
  port: number,
  count: number,
  old: readonly number[],
  timeoutMs: number,
): Promise<Set<number>> {
  const answered = new Set<number>();
  const deadline = performance.now() + timeoutMs;
  for (let i = 0; i < 20_000 && performance.now() < deadline; i++) {
    const r = await getOnce(port, 2_000);
    if (r.ok && r.status === 200) {
      const { pid } = parseAnswer(r.body);
      if (pid > 0 && !old.includes(pid)) answered.add(pid);
      if (answered.size >= count) return answered;
    }
    await sleep(5);
  }
  throw new Error(`port ${port}: ${answered.size} of ${count} new processes answered in time`);
}

async function pm2Trial(
  pm2: Pm2,
  port: number,
  s: TrialSettings,
  seen: Set<number>,
): Promise<RecoveryTrial> {
  const before = webProcesses(await pm2.jlist());
  if (before.length !== s.replicas || before.some((p) => p.pm2_env.status !== "online")) {
    throw new Error(`pm2: web has ${before.length} instances, not all online`);
  }
  const pids = before.map((p) => p.pid);
  const daemon = pm2.daemonPid();
  if (daemon === undefined) throw new Error("pm2: no daemon pid");
  const run = await underLoad(
    port,
    s,
    pids,
    () => sigkillAndWait(daemon, "PM2 daemon"),
    async () => {
      const t = performance.now();
      await pm2.run(["resurrect"], RECOVER_TIMEOUT_S * 1_000);
      const upMs = performance.now() - t;
      await newProcessesAnswer(port, s.replicas, pids, RECOVER_TIMEOUT_S * 1_000);
      return { upMs };
    },
  );
  const after = webProcesses(await pm2.jlist());
  for (const p of after) if (p.pid > 0) seen.add(p.pid);
  const online = after.filter((p) => p.pm2_env.status === "online");
  return trialOf(run, {
    replicas: online.length,
    kept: online.filter((p) => pids.includes(p.pid)).length,
    converged: online.length === s.replicas && after.length === s.replicas,
  });
}

function side(name: Manager, trials: readonly RecoveryTrial[], replicas: number): RecoverySide {
  const errors: Record<string, number> = {};
  for (const t of trials) {
    for (const [kind, n] of Object.entries(t.errors)) errors[kind] = (errors[kind] ?? 0) + n;
  }
  return {
    name,
    ms: summarize(trials.map((t) => t.ms)),
    upMs: summarize(trials.map((t) => t.upMs)),
    goneMs: summarize(trials.map((t) => t.goneMs)),
    failed: summarize(trials.map((t) => t.failed)),
    failedTotal: trials.reduce((n, t) => n + t.failed, 0),
    requestsTotal: trials.reduce((n, t) => n + t.requests, 0),
    achievedPerS: summarize(trials.map((t) => t.achievedPerS)),
    maxLatencyMs: summarize(trials.map((t) => t.maxLatencyMs)),
    errors,
    adoptedTrials: trials.filter(
      (t) => t.converged && t.replicas === replicas && t.kept === replicas,
    ).length,
    trials,
  };
}

export async function recoveryBench(opts: RecoveryOptions = {}): Promise<RecoveryResult> {
  const trials = opts.trials ?? 5;
  const withPm2 = opts.pm2 ?? true;
  const s: TrialSettings = {
    replicas: opts.replicas ?? 4,
    ratePerS: opts.ratePerS ?? 200,
    connections: opts.connections ?? 4,
    padMs: opts.padMs ?? 1_000,
  };
  const startDelayMs = opts.startDelayMs ?? 300;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const loadBefore = loadavg()[0] ?? 0;
  const pm2Bin = withPm2 ? ensurePm2(log) : "";

  const work = mkdtempSync(join(tmpdir(), "baton-bench-recovery-"));
  const batonDir = join(work, "baton");
  const pm2Dir = join(work, "pm2");
  mkdirSync(batonDir);
  mkdirSync(pm2Dir);
  const project = new BatonProject(batonDir);
  const pm2 = new Pm2(pm2Bin, join(work, "pm2-home"));
  const pm2Pids = new Set<number>();
  const controllers = new Set<number>();
  let lastStatus: ControllerStatus | undefined;
  let pm2Started = false;
  try {
    const [batonPort, pm2Port] = (await freePorts(2)) as [number, number];
    writeVersionedApp(batonDir, startDelayMs);
    writeFileSync(project.file, webAppYaml("bench-recovery", batonPort, s.replicas, "1"));
    lastStatus = await project.up(60);
    controllers.add(lastStatus.controller.pid);
    log(
      `baton: controller ${lastStatus.controller.pid}, proxy ${lastStatus.controller.proxyPid}, port ${batonPort}`,
    );

    if (withPm2) {
      const script = writeVersionedApp(pm2Dir, startDelayMs);
      pm2Started = true;
      await startPm2Cluster(
        pm2,
        script,
        s.replicas,
        pm2Port,
        pm2Pids,
        async () => (await getOnce(pm2Port, 2_000)).ok,
      );
      await pm2.run(["save"]);
      log(`pm2 ${pm2Version()}: daemon ${pm2.daemonPid()}, cluster of ${s.replicas}, saved`);
    }

    const runs: Record<Manager, RecoveryTrial[]> = { baton: [], pm2: [] };
    const names: Manager[] = withPm2 ? ["baton", "pm2"] : ["baton"];
    for (let i = 0; i < trials; i++) {
      const order = i % 2 === 0 ? names : [...names].reverse();
      for (const name of order) {
        let trial: RecoveryTrial;
        if (name === "baton") {
          const r = await batonTrial(project, batonPort, s, controllers);
          lastStatus = r.status;
          trial = r.trial;
        } else {
          trial = await pm2Trial(pm2, pm2Port, s, pm2Pids);
        }
        runs[name].push(trial);
        log(
          `trial ${i + 1}/${trials} ${name.padEnd(5)} ${trial.ms.toFixed(0)} ms (up ${trial.upMs.toFixed(0)} ms)  ${trial.failed} failed of ${trial.requests}; ${trial.kept}/${trial.replicas} replicas kept${trial.proxyKept === undefined ? "" : `, proxy ${trial.proxyKept ? "kept" : "NEW"}`}${trial.failed > 0 ? `  ${JSON.stringify(trial.errors)}` : ""}`,
        );
      }
    }

    const sides = names.map((n) => side(n, runs[n], s.replicas));
    const baton = sides[0] as RecoverySide;
    const result: RecoveryResult = {
      name: "recovery",
      at: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        node: process.version,
        pm2: withPm2 ? pm2Version() : "not run",
        load: [round(loadBefore), round(loadavg()[0] ?? 0)],
      },
      settings: {
        trials,
        replicas: s.replicas,
        ratePerS: s.ratePerS,
        connections: s.connections,
        startDelayMs,
        padMs: s.padMs,
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
      },
      sides,
      goal: {
        text: "no failed request, every replica adopted (same pids) in every trial",
        met: baton.failedTotal === 0 && baton.adoptedTrials === trials,
      },
    };
    const paths = writeResults("recovery", renderRecoveryMarkdown(result), result, opts.resultsDir);
    log(`results: ${paths.markdown}`);
    return result;
  } finally {
    if (pm2Started) {
      for (const p of await pm2.jlist().catch(() => [])) if (p.pid > 0) pm2Pids.add(p.pid);
      await pm2.kill([...pm2Pids], log);
    }
    await project.down(lastStatus, log);
    const mine = [...controllers, lastStatus?.controller.proxyPid].filter(
      (p): p is number => typeof p === "number",
    );
    for (const pid of await waitGone(mine, 10_000)) {
      log(`warning: pid ${pid} still runs 10 s after baton down; SIGKILL`);
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
    rmSync(work, { recursive: true, force: true });
  }
}

function errorsText(errors: Readonly<Record<string, number>>): string {
  const entries = Object.entries(errors).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? "none" : entries.map(([k, n]) => `${n} × ${k}`).join(", ");
}

const LABEL: Record<Manager, string> = {
  baton: "Baton: controller SIGKILL → `up -d` + `wait`",
  pm2: "PM2: daemon SIGKILL → `resurrect` (apps restarted)",
};

export function renderRecoveryMarkdown(r: RecoveryResult): string {
  const st = r.settings;
  const rows = r.sides.map((m) => [
    LABEL[m.name],
    spread(m.ms),
    `${round(m.ms.min)} / ${round(m.ms.median)} / ${round(m.ms.max)}`,
    spread(m.upMs),
    `${m.failedTotal} of ${m.requestsTotal}`,
    spread(m.failed),
    `${m.adoptedTrials} of ${m.trials.length}`,
    spread(m.achievedPerS),
    spread(m.maxLatencyMs),
  ]);
  const trialRows = r.sides.flatMap((m) =>
    m.trials.map((t, i) => [
      m.name,
      i + 1,
      t.goneMs.toFixed(0),
      t.upMs.toFixed(0),
      t.ms.toFixed(0),
      `${t.failed} / ${t.requests}`,
      `${t.oldAlive} / ${st.replicas}`,
      `${t.kept} of ${t.replicas}`,
      t.proxyKept === undefined ? "-" : t.proxyKept ? "yes" : "NO",
      t.converged ? "yes" : "NO",
    ]),
  );
  const errors = r.sides.map((m) => `${m.name}: ${errorsText(m.errors)}`).join("; ");
  const baton = r.sides.find((m) => m.name === "baton");
  const pm2Note = r.sides.some((m) => m.name === "pm2")
    ? `PM2 has no equivalent: its apps are its daemon's children and die with it (cluster mode: they lose their master). Its row is the nearest thing, SIGKILL of PM2's daemon then \`pm2 resurrect\` (after \`pm2 save\`) until ${st.replicas} new processes answer: the apps are restarted, so the app is down meanwhile; for information, not a like-for-like comparison.`
    : "PM2 has no equivalent (its apps die with its daemon); not run.";
  return `# Controller-recovery benchmark

${r.at} — ${r.machine.cpus} CPUs, Node ${r.machine.node}, PM2 ${r.machine.pm2}; load average ${r.machine.load[0]} before, ${r.machine.load[1]} after

${st.replicas} replicas of a small Node HTTP app (listens ${st.startDelayMs} ms after it starts) converged behind Baton's proxy, ${st.ratePerS} req/s (fixed rate, ${st.connections} keep-alive connections) on the proxy port from ${st.padMs / 1000} s before the kill to ${st.padMs / 1000} s after recovery. SIGKILL of the controller (pid from \`baton status --json\`), wait until it is gone, then time \`baton up -d\` + \`baton wait\` until converged. *Replicas adopted* = converged with exactly ${st.replicas} replicas, all the same pids as before the kill (none restarted). ${st.trials} trials. Median (min–max).

${markdownTable(["manager", "recovery ms", "min / median / max ms", "of which up / resurrect ms", "failed requests, all trials", "failed per trial", "replicas adopted", "achieved req/s", "max latency ms"], rows)}

${pm2Note}

Failed requests by kind — ${errors}.

Each trial (gone = SIGKILL → pid gone; up = \`baton up -d\` / \`pm2 resurrect\` alone; recovery = up + until converged / all answer; old alive = app processes from before the kill still alive once recovered; kept = replicas afterwards that are the processes from before):

${markdownTable(["manager", "#", "gone ms", "up ms", "recovery ms", "failed / requests", "old alive", "kept", "proxy kept", "converged"], trialRows)}

| goal | value | status |
| --- | --- | --- |
| failed requests while Baton's controller is down and recovers | ${baton?.failedTotal ?? "-"} | 0: ${baton?.failedTotal === 0 ? "met" : "NOT met"} |
| trials where every replica was adopted | ${baton?.adoptedTrials ?? "-"} of ${st.trials} | all: ${baton?.adoptedTrials === st.trials ? "met" : "NOT met"} |
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      trials: { type: "string", default: "5" },
      rate: { type: "string", default: "200" },
      "no-pm2": { type: "boolean", default: false },
    },
  });
  recoveryBench({
    trials: Number(values.trials),
    ratePerS: Number(values.rate),
    pm2: !values["no-pm2"],
  }).then(
    (r) => process.stdout.write(renderRecoveryMarkdown(r)),
    (err: unknown) => {
      process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
