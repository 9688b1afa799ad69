/**
 * Rolling update under load: what a new release costs the users of an app, Baton against PM2.
 *
 * The same small Node HTTP app (it answers "VERSION PID", and listens 300 ms after it starts,
 * like a real service) runs as 4 replicas under Baton (behind Baton's proxy on the app's port,
 * ready once GET /healthz answers) and as 4 PM2 instances in cluster mode (sharing the app's
 * port), both at once. A trial changes VERSION in the app's environment and rolls it out while
 * a fixed-rate keep-alive load (600 req/s over 8 connections) runs against the port users hit:
 *
 * - Baton: edit `env: { VERSION }` in baton.yaml, `baton apply --wait` (default update
 *   policy: one extra replica at a time, none unavailable);
 * - Baton, maxSurge 2: the same, in a second Baton project (its own controller, proxy and
 *   port) whose app has `update: { maxSurge: 2, maxUnavailable: 0 }`: two extra replicas at a
 *   time, PM2's parallelism;
 * - PM2: `pm2 reload web --update-env` with VERSION in the environment.
 *
 * Measured: the requests that failed (non-2xx, reset, refused, no answer within 5 s) from
 * 1 s before the trigger to 1 s after the command returned, and the rollout time (the
 * command's wall time: trigger → every new replica serves and the old ones are gone, which is
 * checked afterwards). Each trial runs the three one after the other, in an order that changes
 * from trial to trial. For both Baton sides, the replicas alive during the rollout are counted
 * from Baton's event log (`replica.started` minus `replica.stopped` / `replica.exited`): the
 * peak must stay within replicas + maxSurge.
 *
 * By default Baton replaces one replica at a time (maxSurge 1, maxUnavailable 0); PM2 reloads
 * two instances at a time (PM2_CONCURRENT_ACTIONS, default 2), hence the maxSurge 2 side.
 *
 *   node --import tsx bench/rollout.ts [--trials 5] [--rate 600] [--connections 8]
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
import { Pm2, type Pm2Process } from "./lib/pm2.js";
import { alive, waitGone } from "./lib/procfs.js";
import { ratio, round, type Summary, spread, summarize } from "./lib/stats.js";
import { markdownTable, writeResults } from "./lib/table.js";
import {
  parseAnswer,
  startPm2Cluster,
  type UpdatePolicyYaml,
  webApp,
  webAppYaml,
  webProcesses,
  writeVersionedApp,
} from "./lib/versioned-app.js";
import { ensurePm2, pm2Version } from "./peers.js";

export interface RolloutOptions {
  readonly trials?: number;
  readonly replicas?: number;
  readonly ratePerS?: number;
  readonly connections?: number;
  /** The app listens this long after its process starts. */
  readonly startDelayMs?: number;
  /** Load before the trigger, and after the command returned. */
  readonly padMs?: number;
  /** A rollout taking longer fails the bench; the load is capped at this plus 2 × padMs. */
  readonly maxRolloutS?: number;
  readonly resultsDir?: string;
  readonly log?: (line: string) => void;
}

/** "baton": Baton's default update policy (maxSurge 1); "baton-surge2": maxSurge 2. */
export type Manager = "baton" | "baton-surge2" | "pm2";
type BatonSide = Exclude<Manager, "pm2">;

/** The update policy of the "baton-surge2" side: PM2's parallelism (2 at a time). */
export const SURGE2_POLICY = { maxSurge: 2, maxUnavailable: 0 } as const;
/** Baton's default, which the "baton" side leaves implicit (no `update:` in its yaml). */
const DEFAULT_SURGE = 1;
/**
 * The order of the three sides in trial i: ORDERS[i % 6] — each side first, second and last
 * in turn, then the reverse cycle (so each side also follows each of the other two).
 */
const ORDERS: readonly (readonly Manager[])[] = [
  ["baton", "baton-surge2", "pm2"],
  ["baton-surge2", "pm2", "baton"],
  ["pm2", "baton", "baton-surge2"],
  ["pm2", "baton-surge2", "baton"],
  ["baton", "pm2", "baton-surge2"],
  ["baton-surge2", "baton", "pm2"],
];

export interface RolloutChecks {
  /** Replicas (Baton) or online instances (PM2) once done: should be `replicas`. */
  readonly replicas: number;
  /** Every replica runs the new release (Baton: replica revision = app revision, ready). */
  readonly allNew: boolean;
  /** None of them is an old process. */
  readonly newPids: boolean;
  /** Old processes still alive when the command returned: should be 0. */
  readonly oldAliveAtDone: number;
  /** Fresh requests after the rollout all got the new VERSION. */
  readonly servesNew: boolean;
  /**
   * Baton only: the most replicas alive at once during the rollout, replayed from its event
   * log (the replicas before, + `replica.started`, − `replica.stopped` / `replica.exited`),
   * and the bound it must stay within (replicas + maxSurge).
   */
  readonly peakReplicas?: number;
  readonly maxReplicas?: number;
}

export interface LoadFigures {
  readonly requests: number;
  readonly failed: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly achievedPerS: number;
  readonly skipped: number;
  readonly connectionsOpened: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly durationMs: number;
  readonly stoppedBy: LoadResult["stoppedBy"];
}

export interface RolloutTrial {
  readonly version: string;
  /** Trigger → the command returned (`baton apply --wait` / `pm2 reload`), ms. */
  readonly ms: number;
  readonly load: LoadFigures;
  /** Trigger → first answer of the new version, and → last answer of the old one, ms. */
  readonly firstNewMs?: number;
  readonly lastOldMs?: number;
  /** Trigger → each failed request (the first 50), ms. */
  readonly failedAtMs: readonly number[];
  readonly checks: RolloutChecks;
  /** Baton only, from its event log: trigger → `rollout.started` and → rolled out, ms. */
  readonly controller?: { readonly startedMs?: number; readonly doneMs?: number };
}

export interface RolloutSide {
  readonly name: Manager;
  readonly ms: Summary;
  readonly failed: Summary;
  readonly failedTotal: number;
  readonly requestsTotal: number;
  readonly achievedPerS: Summary;
  readonly p99Ms: Summary;
  readonly maxMs: Summary;
  /** Failed requests of all trials by kind. */
  readonly errors: Readonly<Record<string, number>>;
  /** Every check of every trial passed. */
  readonly checksOk: boolean;
  /** Baton only: trigger → the controller started the rollout / finished it (its event log). */
  readonly controllerStartedMs?: Summary;
  readonly controllerDoneMs?: Summary;
  /** Baton only: the most replicas alive at once during each rollout (its event log). */
  readonly peakReplicas?: Summary;
  /** Baton only: its update policy (the "baton" side: Baton's default). */
  readonly update?: { readonly maxSurge: number; readonly maxUnavailable: number };
  readonly trials: readonly RolloutTrial[];
}

export interface RolloutResult {
  readonly name: "rollout";
  readonly at: string;
  readonly machine: Pm2Machine;
  readonly settings: RateLoadSettings;
  readonly sides: readonly RolloutSide[];
  /** Baton / PM2 of the median rollout time: below 1, Baton rolls out faster. */
  readonly ratio: number;
  /** Baton with maxSurge 2 / PM2 of the median rollout time: at equal parallelism. */
  readonly ratioSurge2: number;
  /** Baton with maxSurge 2 / Baton with its default (maxSurge 1), median rollout time. */
  readonly ratioSurge2ToDefault: number;
  readonly goal: { readonly text: string; readonly met: boolean };
}

const REQUEST_TIMEOUT_MS = 5_000;
const FRESH_CHECKS = 8;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pm2EnvVersion(p: Pm2Process): string | undefined {
  const env = p.pm2_env as unknown as { VERSION?: string; env?: { VERSION?: string } };
  return env.VERSION ?? env.env?.VERSION;
}

/** `count` fresh GETs: true when every one answers 200 with `version`. */
async function servesVersion(port: number, version: string, count: number): Promise<boolean> {
  for (let i = 0; i < count; i++) {
    const r = await getOnce(port, REQUEST_TIMEOUT_MS);
    if (!r.ok || r.status !== 200 || parseAnswer(r.body).version !== version) return false;
  }
  return true;
}

function figures(r: LoadResult): LoadFigures {
  return {
    requests: r.requests,
    failed: r.failed,
    errors: r.errors,
    achievedPerS: r.achievedPerS,
    skipped: r.skipped,
    connectionsOpened: r.connectionsOpened,
    p50Ms: r.latencyMs.p50,
    p99Ms: r.latencyMs.p99,
    maxMs: r.latencyMs.max,
    durationMs: r.durationMs,
    stoppedBy: r.stoppedBy,
  };
}

interface TrialSettings {
  readonly replicas: number;
  readonly ratePerS: number;
  readonly connections: number;
  readonly padMs: number;
  readonly maxRolloutS: number;
}

/**
 * Runs the load around `trigger` (padMs before, padMs after it returned), times the trigger,
 * and notes how many of oldPids are still alive the moment it returned.
 */
async function underLoad(
  port: number,
  s: TrialSettings,
  oldPids: readonly number[],
  trigger: () => Promise<unknown>,
): Promise<{ ms: number; t0: number; load: LoadResult; oldAliveAtDone: number }> {
  const load = startLoad({
    port,
    ratePerS: s.ratePerS,
    connections: s.connections,
    maxDurationMs: s.maxRolloutS * 1_000 + 2 * s.padMs + 5_000,
    timeoutMs: REQUEST_TIMEOUT_MS,
  });
  let t0 = 0;
  let ms = 0;
  let oldAliveAtDone = 0;
  try {
    await sleep(s.padMs);
    t0 = performance.now();
    await trigger();
    ms = performance.now() - t0;
    oldAliveAtDone = oldPids.filter(alive).length;
    await sleep(s.padMs);
  } catch (error) {
    await load.stop(); // the load never outlives its trial
    throw error;
  }
  return { ms, t0, load: await load.stop(), oldAliveAtDone };
}

function trialOf(
  version: string,
  oldVersion: string,
  run: { ms: number; t0: number; load: LoadResult; oldAliveAtDone: number },
  checks: Omit<RolloutChecks, "oldAliveAtDone">,
): RolloutTrial {
  const seenNew = run.load.versions[version];
  const seenOld = run.load.versions[oldVersion];
  return {
    version,
    ms: run.ms,
    load: figures(run.load),
    ...(seenNew ? { firstNewMs: seenNew.firstAt - run.t0 } : {}),
    ...(seenOld ? { lastOldMs: seenOld.lastAt - run.t0 } : {}),
    failedAtMs: run.load.failedAt.map((at) => at - run.t0),
    checks: { ...checks, oldAliveAtDone: run.oldAliveAtDone },
  };
}

interface BatonTarget {
  readonly project: BatonProject;
  readonly projectName: string;
  readonly port: number;
  /** Written into baton.yaml when set; otherwise Baton's default policy applies. */
  readonly update?: UpdatePolicyYaml;
  /** The surge the policy allows (1 for Baton's default). */
  readonly maxSurge: number;
}

/**
 * The most replicas alive at once, replaying the event log from `before` replicas: a replica
 * counts from `replica.started` (the process was spawned) until `replica.stopped` or
 * `replica.exited` (its exit was seen) — an upper bound of what really ran.
 */
function peakFromEvents(before: number, events: readonly { id: number; type: string }[]): number {
  let alive = before;
  let peak = before;
  for (const e of [...events].sort((a, b) => a.id - b.id)) {
    if (e.type === "replica.started") alive += 1;
    else if (e.type === "replica.stopped" || e.type === "replica.exited") alive -= 1;
    peak = Math.max(peak, alive);
  }
  return peak;
}

async function batonTrial(
  target: BatonTarget,
  version: string,
  oldVersion: string,
  s: TrialSettings,
): Promise<{ trial: RolloutTrial; status: ControllerStatus }> {
  const { project, port } = target;
  const before = webApp(await project.status());
  if (before.state !== "converged" || before.replicas.length !== s.replicas) {
    throw new Error(`baton: web is ${before.state} with ${before.replicas.length} replicas`);
  }
  const oldPids = before.replicas.map((r) => r.pid).filter((p): p is number => p !== null);
  let triggeredAt = Date.now();
  const run = await underLoad(port, s, oldPids, () => {
    triggeredAt = Date.now();
    writeFileSync(
      project.file,
      webAppYaml(target.projectName, port, s.replicas, version, target.update),
    );
    return project.cli(
      ["apply", "--wait", "--timeout", `${s.maxRolloutS}s`],
      (s.maxRolloutS + 30) * 1_000,
    );
  });
  const status = await project.status();
  const app = webApp(status);
  const servesNew = await servesVersion(port, version, FRESH_CHECKS);
  const events = (await project.events("web", 500)).filter((e) => e.at >= triggeredAt);
  const trial = trialOf(version, oldVersion, run, {
    replicas: app.replicas.length,
    allNew:
      app.state === "converged" &&
      app.revision !== before.revision &&
      app.replicas.every((r) => r.ready && r.revision === app.revision),
    newPids: app.replicas.every((r) => r.pid !== null && !oldPids.includes(r.pid)),
    servesNew,
    peakReplicas: peakFromEvents(before.replicas.length, events),
    maxReplicas: s.replicas + target.maxSurge,
  });
  const after = (types: readonly string[]): number | undefined => {
    const e = events.find((x) => types.includes(x.type));
    return e === undefined ? undefined : e.at - triggeredAt;
  };
  const started = after(["rollout.started"]);
  const done = after(["rollout.rolled_out", "app.converged"]);
  return {
    trial: {
      ...trial,
      controller: {
        ...(started === undefined ? {} : { startedMs: started }),
        ...(done === undefined ? {} : { doneMs: done }),
      },
    },
    status,
  };
}

async function pm2Trial(
  pm2: Pm2,
  port: number,
  version: string,
  oldVersion: string,
  s: TrialSettings,
  seen: Set<number>,
): Promise<RolloutTrial> {
  const before = webProcesses(await pm2.jlist());
  if (before.length !== s.replicas || before.some((p) => p.pm2_env.status !== "online")) {
    throw new Error(`pm2: web has ${before.length} instances, not all online`);
  }
  const oldPids = before.map((p) => p.pid);
  const run = await underLoad(port, s, oldPids, () =>
    pm2.run(["reload", "web", "--update-env"], s.maxRolloutS * 1_000, {
      PORT: String(port),
      VERSION: version,
    }),
  );
  const after = webProcesses(await pm2.jlist());
  for (const p of after) if (p.pid > 0) seen.add(p.pid);
  const online = after.filter((p) => p.pm2_env.status === "online");
  return trialOf(version, oldVersion, run, {
    replicas: online.length,
    allNew: after.length === s.replicas && online.every((p) => pm2EnvVersion(p) === version),
    newPids: online.every((p) => !oldPids.includes(p.pid)),
    servesNew: await servesVersion(port, version, FRESH_CHECKS),
  });
}

function withinSurge(c: RolloutChecks): boolean {
  return (
    c.peakReplicas === undefined || c.maxReplicas === undefined || c.peakReplicas <= c.maxReplicas
  );
}

function checksPass(c: RolloutChecks, replicas: number): boolean {
  return (
    c.replicas === replicas &&
    c.allNew &&
    c.newPids &&
    c.oldAliveAtDone === 0 &&
    c.servesNew &&
    withinSurge(c)
  );
}

function side(
  name: Manager,
  trials: readonly RolloutTrial[],
  replicas: number,
  update?: RolloutSide["update"],
): RolloutSide {
  const errors: Record<string, number> = {};
  for (const t of trials) {
    for (const [kind, n] of Object.entries(t.load.errors)) errors[kind] = (errors[kind] ?? 0) + n;
  }
  return {
    name,
    ms: summarize(trials.map((t) => t.ms)),
    failed: summarize(trials.map((t) => t.load.failed)),
    failedTotal: trials.reduce((n, t) => n + t.load.failed, 0),
    requestsTotal: trials.reduce((n, t) => n + t.load.requests, 0),
    achievedPerS: summarize(trials.map((t) => t.load.achievedPerS)),
    p99Ms: summarize(trials.map((t) => t.load.p99Ms)),
    maxMs: summarize(trials.map((t) => t.load.maxMs)),
    errors,
    checksOk: trials.every((t) => checksPass(t.checks, replicas)),
    ...optionalSummary(
      "controllerStartedMs",
      trials.map((t) => t.controller?.startedMs),
    ),
    ...optionalSummary(
      "controllerDoneMs",
      trials.map((t) => t.controller?.doneMs),
    ),
    ...optionalSummary(
      "peakReplicas",
      trials.map((t) => t.checks.peakReplicas),
    ),
    ...(update === undefined ? {} : { update }),
    trials,
  };
}

function optionalSummary<K extends string>(
  key: K,
  values: readonly (number | undefined)[],
): Partial<Record<K, Summary>> {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length === 0 ? {} : ({ [key]: summarize(known) } as Record<K, Summary>);
}

export async function rolloutBench(opts: RolloutOptions = {}): Promise<RolloutResult> {
  const trials = opts.trials ?? 5;
  const s: TrialSettings = {
    replicas: opts.replicas ?? 4,
    ratePerS: opts.ratePerS ?? 600,
    connections: opts.connections ?? 8,
    padMs: opts.padMs ?? 1_000,
    maxRolloutS: opts.maxRolloutS ?? 60,
  };
  const startDelayMs = opts.startDelayMs ?? 300;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const loadBefore = loadavg()[0] ?? 0;
  const pm2Bin = ensurePm2(log);

  const work = mkdtempSync(join(tmpdir(), "baton-bench-rollout-"));
  const pm2Dir = join(work, "pm2");
  mkdirSync(pm2Dir);
  const pm2 = new Pm2(pm2Bin, join(work, "pm2-home"));
  const pm2Pids = new Set<number>();
  /** The two Baton projects, each with its own controller, proxy and port. */
  const batons = new Map<BatonSide, BatonTarget>();
  const lastStatus = new Map<BatonSide, ControllerStatus>();
  let pm2Started = false;
  try {
    const [batonPort, surge2Port, pm2Port] = (await freePorts(3)) as [number, number, number];
    const plans: [BatonSide, Omit<BatonTarget, "project">][] = [
      ["baton", { projectName: "bench-rollout", port: batonPort, maxSurge: DEFAULT_SURGE }],
      [
        "baton-surge2",
        {
          projectName: "bench-rollout-surge2",
          port: surge2Port,
          update: SURGE2_POLICY,
          maxSurge: SURGE2_POLICY.maxSurge,
        },
      ],
    ];
    for (const [name, plan] of plans) {
      const dir = join(work, name);
      mkdirSync(dir);
      writeVersionedApp(dir, startDelayMs);
      const target: BatonTarget = { ...plan, project: new BatonProject(dir) };
      batons.set(name, target);
      writeFileSync(
        target.project.file,
        webAppYaml(target.projectName, target.port, s.replicas, "1", target.update),
      );
      const status = await target.project.up(60);
      lastStatus.set(name, status);
      log(
        `${name}: controller ${status.controller.pid}, proxy ${status.controller.proxyPid}, port ${target.port}, maxSurge ${target.maxSurge}`,
      );
    }
    const pm2Script = writeVersionedApp(pm2Dir, startDelayMs);

    pm2Started = true;
    await startPm2Cluster(
      pm2,
      pm2Script,
      s.replicas,
      pm2Port,
      pm2Pids,
      async () => await servesVersion(pm2Port, "1", 1),
    );
    log(
      `pm2 ${pm2Version()}: daemon ${pm2.daemonPid()}, cluster of ${s.replicas}, port ${pm2Port}`,
    );

    const runs: Record<Manager, RolloutTrial[]> = { baton: [], "baton-surge2": [], pm2: [] };
    for (let i = 0; i < trials; i++) {
      const version = String(i + 2);
      const oldVersion = String(i + 1);
      // The order changes from trial to trial, so no side always runs right after the same one.
      const order = ORDERS[i % ORDERS.length] as readonly Manager[];
      for (const name of order) {
        let trial: RolloutTrial;
        if (name === "pm2") {
          trial = await pm2Trial(pm2, pm2Port, version, oldVersion, s, pm2Pids);
        } else {
          const r = await batonTrial(batons.get(name) as BatonTarget, version, oldVersion, s);
          lastStatus.set(name, r.status);
          trial = r.trial;
        }
        runs[name].push(trial);
        const l = trial.load;
        const peak =
          trial.checks.peakReplicas === undefined
            ? ""
            : `, peak ${trial.checks.peakReplicas}/${trial.checks.maxReplicas} replicas`;
        log(
          `trial ${i + 1}/${trials} ${name.padEnd(12)} ${trial.ms.toFixed(0)} ms  ${l.failed} failed of ${l.requests} (${l.achievedPerS.toFixed(0)} req/s, p99 ${l.p99Ms.toFixed(1)} ms, max ${l.maxMs.toFixed(0)} ms${peak})${checksPass(trial.checks, s.replicas) ? "" : `  CHECKS FAILED ${JSON.stringify(trial.checks)}`}${l.failed > 0 ? `  ${JSON.stringify(l.errors)}` : ""}`,
        );
      }
    }

    const baton = side("baton", runs.baton, s.replicas, {
      maxSurge: DEFAULT_SURGE,
      maxUnavailable: 0,
    });
    const surge2 = side("baton-surge2", runs["baton-surge2"], s.replicas, { ...SURGE2_POLICY });
    const pm2Side = side("pm2", runs.pm2, s.replicas);
    const sides = [baton, surge2, pm2Side];
    const r = ratio(baton.ms, pm2Side.ms);
    const result: RolloutResult = {
      name: "rollout",
      at: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        node: process.version,
        pm2: pm2Version(),
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
      ratio: r,
      ratioSurge2: ratio(surge2.ms, pm2Side.ms),
      ratioSurge2ToDefault: ratio(surge2.ms, baton.ms),
      goal: {
        text: "no failed request during Baton's rollouts (both update policies), every check passed",
        met:
          baton.failedTotal === 0 && baton.checksOk && surge2.failedTotal === 0 && surge2.checksOk,
      },
    };
    const paths = writeResults("rollout", renderRolloutMarkdown(result), result, opts.resultsDir);
    log(`results: ${paths.markdown}`);
    return result;
  } finally {
    if (pm2Started) {
      for (const p of await pm2.jlist().catch(() => [])) if (p.pid > 0) pm2Pids.add(p.pid);
      await pm2.kill([...pm2Pids], log);
    }
    const mine: number[] = [];
    for (const [name, target] of batons) {
      const last = lastStatus.get(name);
      await target.project.down(last, log);
      for (const p of [last?.controller.pid, last?.controller.proxyPid]) {
        if (typeof p === "number") mine.push(p);
      }
    }
    for (const pid of await waitGone(mine, 10_000)) {
      log(`warning: pid ${pid} still runs 10 s after baton down`);
    }
    rmSync(work, { recursive: true, force: true });
  }
}

function checksText(c: RolloutChecks, replicas: number): string {
  if (checksPass(c, replicas)) return "ok";
  const bad: string[] = [];
  if (c.replicas !== replicas) bad.push(`${c.replicas} replicas`);
  if (!c.allNew) bad.push("not all on the new release");
  if (!c.newPids) bad.push("old pids left");
  if (c.oldAliveAtDone > 0) bad.push(`${c.oldAliveAtDone} old alive at done`);
  if (!c.servesNew) bad.push("old version served");
  if (!withinSurge(c)) bad.push(`${c.peakReplicas} replicas at once (max ${c.maxReplicas})`);
  return bad.join(", ");
}

function errorsText(errors: Readonly<Record<string, number>>): string {
  const entries = Object.entries(errors).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? "none" : entries.map(([k, n]) => `${n} × ${k}`).join(", ");
}

const LABEL: Record<Manager, string> = {
  baton: "Baton (`apply --wait`, via its proxy)",
  "baton-surge2": "Baton, maxSurge 2 (same, `update: { maxSurge: 2 }`)",
  pm2: "PM2 (cluster, `reload --update-env`)",
};

export function renderRolloutMarkdown(r: RolloutResult): string {
  const st = r.settings;
  const rows = r.sides.map((m) => [
    LABEL[m.name],
    spread(m.ms),
    `${round(m.ms.min)} / ${round(m.ms.median)} / ${round(m.ms.max)}`,
    `${m.failedTotal} of ${m.requestsTotal}`,
    spread(m.failed),
    spread(m.achievedPerS),
    spread(m.p99Ms, 1),
    spread(m.maxMs),
    m.controllerStartedMs === undefined || m.controllerDoneMs === undefined
      ? "-"
      : `${spread(m.controllerStartedMs)} / ${spread(m.controllerDoneMs)}`,
    m.peakReplicas === undefined
      ? "-"
      : `${m.peakReplicas.max} (max ${st.replicas + (m.update?.maxSurge ?? 0)})`,
    m.checksOk ? "all ok" : "FAILED",
  ]);
  const trialRows = r.sides.flatMap((m) =>
    m.trials.map((t, i) => [
      m.name,
      i + 1,
      t.version,
      t.ms.toFixed(0),
      `${t.load.failed} / ${t.load.requests}`,
      t.load.achievedPerS.toFixed(0),
      t.firstNewMs === undefined ? "-" : t.firstNewMs.toFixed(0),
      t.lastOldMs === undefined ? "-" : t.lastOldMs.toFixed(0),
      t.load.connectionsOpened,
      `${t.controller?.startedMs ?? "-"} / ${t.controller?.doneMs ?? "-"}`,
      t.checks.peakReplicas ?? "-",
      checksText(t.checks, st.replicas),
    ]),
  );
  const baton = r.sides.find((m) => m.name === "baton");
  const surge2 = r.sides.find((m) => m.name === "baton-surge2");
  const pm2 = r.sides.find((m) => m.name === "pm2");
  const surge = surge2?.update ?? SURGE2_POLICY;
  return `# Rolling-update benchmark

${r.at} — ${r.machine.cpus} CPUs, Node ${r.machine.node}, PM2 ${r.machine.pm2}; load average ${r.machine.load[0]} before, ${r.machine.load[1]} after

A new release (a new \`VERSION\` in the environment) of ${st.replicas} replicas of a small Node HTTP app that listens ${st.startDelayMs} ms after it starts and shuts down gracefully, while ${st.ratePerS} req/s (fixed rate, ${st.connections} keep-alive connections) hit the port users hit, from ${st.padMs / 1000} s before the trigger to ${st.padMs / 1000} s after it returned. Baton: \`env\` changed in baton.yaml, \`baton apply --wait\` (default update policy: one new replica at a time, none unavailable). Baton, maxSurge ${surge.maxSurge}: the same in a second Baton project (its own controller, proxy and port) whose app has \`update: { maxSurge: ${surge.maxSurge}, maxUnavailable: ${surge.maxUnavailable} }\` — ${surge.maxSurge} new replicas at a time, PM2's parallelism. PM2: \`pm2 reload web --update-env\` (cluster mode; it reloads two instances at a time, its default \`PM2_CONCURRENT_ACTIONS\`). Rollout time = the command's wall time (trigger → all new replicas serve, old ones gone; checked afterwards). A failed request = non-2xx, reset, refused, or no answer within ${st.requestTimeoutMs / 1000} s. ${st.trials} rollout(s) each, the three one after the other in each trial, in an order that changes from trial to trial. Peak replicas (Baton) = the most replicas alive at once during a rollout, from Baton's event log (\`replica.started\` minus \`replica.stopped\` / \`replica.exited\`), checked against replicas + maxSurge. Median (min–max).

${markdownTable(["manager", "rollout ms", "min / median / max ms", "failed requests, all rollouts", "failed per rollout", "achieved req/s", "p99 ms", "max latency ms", "controller log: rollout started / done ms", "peak replicas", "checks"], rows)}

Failed requests by kind — Baton: ${baton ? errorsText(baton.errors) : "-"}; Baton, maxSurge ${surge.maxSurge}: ${surge2 ? errorsText(surge2.errors) : "-"}; PM2: ${pm2 ? errorsText(pm2.errors) : "-"}. "On a reused socket": the request went out on a keep-alive connection the server was closing (the app's graceful \`server.close()\` closes idle keep-alive connections).

Each rollout (first new / last old = trigger → first answer of the new version / last answer of the old one, from the load; connections = TCP connections the load opened; controller log = trigger → \`rollout.started\` / \`rollout.rolled_out\` in Baton's event log, the rest of the rollout time being the CLI's own start and \`--wait\` polling; peak = the most replicas alive at once, Baton's event log; checks = ${st.replicas} replicas, all on the new release with new pids, no old process alive when the command returned, fresh requests answered by the new version, and for Baton a peak within replicas + maxSurge):

${markdownTable(["manager", "#", "version", "ms", "failed / requests", "req/s", "first new ms", "last old ms", "connections", "controller log ms", "peak", "checks"], trialRows)}

| ratio | value | goal |
| --- | --- | --- |
| Baton / PM2 median rollout time (below 1: Baton is faster) | ${round(r.ratio)}× | info |
| Baton maxSurge ${surge.maxSurge} / PM2 median rollout time (equal parallelism) | ${round(r.ratioSurge2)}× | info |
| Baton maxSurge ${surge.maxSurge} / Baton default median rollout time | ${round(r.ratioSurge2ToDefault)}× | info |
| failed requests during Baton's rollouts (default; maxSurge ${surge.maxSurge}) | ${baton?.failedTotal ?? "-"}; ${surge2?.failedTotal ?? "-"} | 0: ${r.goal.met ? "met" : "NOT met"} |
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      trials: { type: "string", default: "5" },
      rate: { type: "string", default: "600" },
      connections: { type: "string", default: "8" },
    },
  });
  rolloutBench({
    trials: Number(values.trials),
    ratePerS: Number(values.rate),
    connections: Number(values.connections),
  }).then(
    (r) => process.stdout.write(renderRolloutMarkdown(r)),
    (err: unknown) => {
      process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
