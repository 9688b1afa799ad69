/**
 * Self-healing: how long a crashed app is unreachable, Baton against PM2.
 *
 * The same tiny Node HTTP app (it answers 200 with its own pid) runs as one replica under
 * Baton (behind Baton's proxy, on the app's public port) and as one PM2 app in fork mode
 * (on its own port), both at once. Each trial sends SIGKILL to the app's process and times
 * how long until a NEW process answers 200 on the port users hit — Baton's proxy port, the
 * app's port for PM2 — polling with a fresh HTTP GET every 2 ms. Trials alternate between
 * the two; requests that failed in the gap are counted for information.
 *
 * Each kill is a first crash for both: PM2 counts a process up 1 s (`min_uptime`) as stable
 * and never delays a restart by default; Baton is given `restart.resetAfter: 1s` (its default
 * 30 s would make the 2nd kill within 30 s wait 250 ms, the 3rd 500 ms…: its crash-loop
 * backoff, not the time a crash costs), and every trial waits until the process has run 2 s.
 *
 *   node --import tsx bench/selfheal.ts [--trials 10]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BatonProject, type ControllerStatus, type EventRecord } from "./lib/baton-cli.js";
import { getOnce } from "./lib/http-get.js";
import type { Pm2Machine } from "./lib/machine.js";
import { freePorts } from "./lib/net.js";
import { Pm2 } from "./lib/pm2.js";
import { waitGone } from "./lib/procfs.js";
import { ratio, round, type Summary, summarize } from "./lib/stats.js";
import { markdownTable, writeResults } from "./lib/table.js";
import { writeTinyApp } from "./lib/tiny-app.js";
import { waitFor } from "./lib/wait.js";
import { ensurePm2, pm2Version } from "./peers.js";

export interface SelfHealOptions {
  readonly trials?: number;
  /** Pause between two polls of the port. */
  readonly pollMs?: number;
  /** A trial starts once the app's process has run this long (both count it as stable). */
  readonly stableMs?: number;
  readonly resultsDir?: string;
  readonly log?: (line: string) => void;
}

export type Manager = "baton" | "pm2";

export interface HealTrial {
  /** SIGKILL sent → first 200 answered by a new process, in ms. */
  readonly ms: number;
  /** Requests that got no 200 (refused, reset, 5xx) before the new process answered. */
  readonly failed: number;
  readonly polls: number;
  readonly oldPid: number;
  readonly newPid: number;
  /** Wall clock (ms since the epoch) of the kill, to line up with the managers' records. */
  readonly killedAt: number;
  /** Kill → the new process listened on its port (the app's own clock reading). */
  readonly listeningMs?: number;
  /** Kill → the new process started (the app's own clock: Node's `performance.timeOrigin`). */
  readonly startedMs?: number;
  /** Kill → Baton marked the new replica ready (its readiness check passed). */
  readyMs?: number;
}

export interface ManagerResult {
  readonly name: Manager;
  readonly ms: Summary;
  readonly failed: Summary;
  /** Kill → new process started. */
  readonly startedMs?: Summary;
  /** Kill → the new process listened on its port. */
  readonly listeningMs?: Summary;
  /** Kill → new replica marked ready (Baton only: PM2 has no readiness gate). */
  readonly readyMs?: Summary;
  readonly trials: readonly HealTrial[];
}

export interface SelfHealResult {
  readonly name: "selfheal";
  readonly at: string;
  readonly machine: Pm2Machine;
  readonly settings: {
    readonly trials: number;
    readonly pollMs: number;
    readonly stableMs: number;
    readonly batonRestart: string;
  };
  readonly managers: readonly ManagerResult[];
  /** PM2 / Baton of the median heal time: above 1, Baton heals faster. */
  readonly ratio: number;
  readonly goal: { readonly text: string; readonly met: boolean };
}

const TRIAL_DEADLINE_MS = 15_000;
const MAX_POLLS = 5_000;
const BATON_RESTART = "{ resetAfter: 1s }";

interface Target {
  readonly name: Manager;
  /** The pid of the current app process, once it has run `stableMs` and answers on the port. */
  stablePid(stableMs: number): Promise<number>;
  readonly port: number;
}

/** Sends SIGKILL to oldPid, then polls the port until a process other than oldPid answers 200. */
async function killAndTime(port: number, oldPid: number, pollMs: number): Promise<HealTrial> {
  const killedAt = Date.now();
  const t0 = performance.now();
  process.kill(oldPid, "SIGKILL");
  let failed = 0;
  let polls = 0;
  while (polls < MAX_POLLS && performance.now() - t0 < TRIAL_DEADLINE_MS) {
    const started = performance.now();
    polls += 1;
    const r = await getOnce(port, TRIAL_DEADLINE_MS);
    if (r.ok && r.status === 200) {
      const pid = Number(r.body);
      if (pid !== oldPid && Number.isInteger(pid) && pid > 0) {
        const ms = performance.now() - t0;
        const startedAt = Number(r.headers["x-started-at"]);
        const listeningAt = Number(r.headers["x-listening-at"]);
        return {
          ms,
          failed,
          polls,
          oldPid,
          newPid: pid,
          killedAt,
          ...(startedAt > 0 ? { startedMs: startedAt - killedAt } : {}),
          ...(listeningAt > 0 ? { listeningMs: listeningAt - killedAt } : {}),
        };
      }
      failed += 1; // answered by the killed process: cannot happen after SIGKILL, counted if so
    } else {
      failed += 1;
    }
    const rest = pollMs - (performance.now() - started);
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
  }
  throw new Error(
    `port ${port}: no new process answered within ${TRIAL_DEADLINE_MS} ms after killing ${oldPid} (${polls} polls, ${failed} failed)`,
  );
}

async function answersWith(port: number, pid: number): Promise<boolean> {
  const r = await getOnce(port, 2_000);
  return r.ok && r.status === 200 && Number(r.body) === pid;
}

function batonTarget(project: BatonProject, port: number): Target {
  return {
    name: "baton",
    port,
    async stablePid(stableMs) {
      let pid = 0;
      await waitFor(
        async () => {
          const status = await project.status();
          const app = status.apps.find((a) => a.name === "app");
          const replica = app?.replicas[0];
          if (app?.state !== "converged" || replica === undefined || !replica.ready) return false;
          if (replica.pid === null || replica.startedAt === null) return false;
          pid = replica.pid;
          return Date.now() - replica.startedAt >= stableMs && (await answersWith(port, pid));
        },
        "Baton's replica to be ready and stable",
        30_000,
        100,
      );
      return pid;
    },
  };
}

function pm2Target(pm2: Pm2, port: number): Target {
  return {
    name: "pm2",
    port,
    async stablePid(stableMs) {
      let pid = 0;
      await waitFor(
        async () => {
          const app = (await pm2.jlist()).find((p) => p.name === "app");
          if (app === undefined || app.pm2_env.status !== "online" || !(app.pid > 0)) return false;
          pid = app.pid;
          return Date.now() - app.pm2_env.pm_uptime >= stableMs && (await answersWith(port, pid));
        },
        "PM2's app to be online and stable",
        30_000,
        100,
      );
      return pid;
    },
  };
}

export async function selfHealBench(opts: SelfHealOptions = {}): Promise<SelfHealResult> {
  const trials = opts.trials ?? 10;
  const pollMs = opts.pollMs ?? 2;
  const stableMs = opts.stableMs ?? 2_000;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const loadBefore = loadavg()[0] ?? 0;
  const pm2Bin = ensurePm2(log);

  const work = mkdtempSync(join(tmpdir(), "baton-bench-selfheal-"));
  const batonDir = join(work, "baton");
  const pm2Dir = join(work, "pm2");
  mkdirSync(batonDir);
  mkdirSync(pm2Dir);
  const project = new BatonProject(batonDir);
  const pm2 = new Pm2(pm2Bin, join(work, "pm2-home"));
  let lastStatus: ControllerStatus | undefined;
  let pm2Started = false;
  try {
    const [batonPort, pm2Port] = (await freePorts(2)) as [number, number];
    writeTinyApp(batonDir);
    writeTinyApp(pm2Dir);
    writeFileSync(
      project.file,
      `project: bench-selfheal
apps:
  app:
    command: ["node", "server.js"]
    cwd: .
    replicas: 1
    port: ${batonPort}
    health:
      readiness: { http: /, interval: 1s }
    restart: ${BATON_RESTART}
`,
    );
    lastStatus = await project.up(60);
    log(
      `baton: controller ${lastStatus.controller.pid}, proxy ${lastStatus.controller.proxyPid}, port ${batonPort}`,
    );

    const ecosystem = join(pm2Dir, "apps.json");
    writeFileSync(
      ecosystem,
      JSON.stringify({
        apps: [
          {
            name: "app",
            script: join(pm2Dir, "server.js"),
            cwd: pm2Dir,
            exec_mode: "fork",
            instances: 1,
            env: { PORT: String(pm2Port) },
          },
        ],
      }),
    );
    pm2Started = true;
    await pm2.run(["start", ecosystem]);
    log(`pm2 ${pm2Version()}: daemon ${pm2.daemonPid()}, port ${pm2Port}`);

    const targets = [batonTarget(project, batonPort), pm2Target(pm2, pm2Port)];
    const runs = new Map<Manager, HealTrial[]>([
      ["baton", []],
      ["pm2", []],
    ]);
    for (let i = 0; i < trials; i++) {
      // Alternate which goes first, so neither always follows the other's recovery.
      const order = i % 2 === 0 ? targets : [...targets].reverse();
      for (const target of order) {
        const oldPid = await target.stablePid(stableMs);
        const trial = await killAndTime(target.port, oldPid, pollMs);
        runs.get(target.name)?.push(trial);
        log(
          `trial ${i + 1}/${trials} ${target.name.padEnd(5)} ${trial.ms.toFixed(1)} ms  (${trial.failed} failed of ${trial.polls} requests; pid ${trial.oldPid} → ${trial.newPid})`,
        );
      }
    }
    lastStatus = await project.status();
    addBatonTimeline(runs.get("baton") ?? [], await project.events("app"));

    const managers: ManagerResult[] = (["baton", "pm2"] as const).map((name) => {
      const list = runs.get(name) ?? [];
      return {
        name,
        ms: summarize(list.map((t) => t.ms)),
        failed: summarize(list.map((t) => t.failed)),
        ...optionalSummary(
          "startedMs",
          list.map((t) => t.startedMs),
        ),
        ...optionalSummary(
          "listeningMs",
          list.map((t) => t.listeningMs),
        ),
        ...optionalSummary(
          "readyMs",
          list.map((t) => t.readyMs),
        ),
        trials: list,
      };
    });
    const by = (n: Manager) => managers.find((m) => m.name === n) as ManagerResult;
    const r = ratio(by("pm2").ms, by("baton").ms);
    const result: SelfHealResult = {
      name: "selfheal",
      at: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        node: process.version,
        pm2: pm2Version(),
        load: [round(loadBefore), round(loadavg()[0] ?? 0)],
      },
      settings: { trials, pollMs, stableMs, batonRestart: BATON_RESTART },
      managers,
      ratio: r,
      goal: { text: "Baton heals faster than PM2 (PM2 / Baton > 1)", met: r > 1 },
    };
    const paths = writeResults("selfheal", renderSelfHealMarkdown(result), result, opts.resultsDir);
    log(`results: ${paths.markdown}`);
    return result;
  } finally {
    if (pm2Started) {
      const pids = (await pm2.jlist().catch(() => [])).map((p) => p.pid).filter((p) => p > 0);
      await pm2.kill(pids, log);
    }
    await project.down(lastStatus, log);
    const mine = [lastStatus?.controller.pid, lastStatus?.controller.proxyPid].filter(
      (p): p is number => typeof p === "number",
    );
    for (const pid of await waitGone(mine, 10_000)) {
      log(`warning: pid ${pid} still runs 10 s after baton down`);
    }
    rmSync(work, { recursive: true, force: true });
  }
}

/** Kill → replica.ready, from Baton's event log, for each trial. */
function addBatonTimeline(trials: HealTrial[], events: readonly EventRecord[]): void {
  for (const trial of trials) {
    const started = events.find(
      (e) => e.type === "replica.started" && (e.data as { pid?: number }).pid === trial.newPid,
    );
    if (started === undefined) continue;
    const ready = events.find((e) => e.type === "replica.ready" && e.replica === started.replica);
    if (ready !== undefined) trial.readyMs = ready.at - trial.killedAt;
  }
}

function optionalSummary<K extends string>(
  key: K,
  values: readonly (number | undefined)[],
): Partial<Record<K, Summary>> {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length === 0 ? {} : ({ [key]: summarize(known) } as Record<K, Summary>);
}

function range(s: Summary, digits = 1): string {
  const f = (x: number) => x.toFixed(digits);
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

export function renderSelfHealMarkdown(r: SelfHealResult): string {
  const rows = r.managers.map((m) => [
    m.name === "baton" ? "Baton (via its proxy port)" : "PM2 (fork mode, app port)",
    range(m.ms),
    `${round(m.ms.min)} / ${round(m.ms.median)} / ${round(m.ms.max)}`,
    m.startedMs === undefined ? "-" : range(m.startedMs, 0),
    m.listeningMs === undefined ? "-" : range(m.listeningMs, 0),
    m.readyMs === undefined ? "-" : range(m.readyMs, 0),
    range(m.failed, 0),
  ]);
  return `# Self-healing benchmark

${r.at} — ${r.machine.cpus} CPUs, Node ${r.machine.node}, PM2 ${r.machine.pm2}; load average ${r.machine.load[0]} before, ${r.machine.load[1]} after

\`kill -9\` of the only process of a tiny Node HTTP app → first HTTP 200 answered by a new process on the port users hit (fresh GET every ${r.settings.pollMs} ms). ${r.settings.trials} trials each, alternating; each kill after the process ran ${r.settings.stableMs / 1000} s, so each is a first crash (Baton \`restart: ${r.settings.batonRestart}\`, like PM2's \`min_uptime\`). Median (min–max).

${markdownTable(["manager", "heal ms", "min / median / max ms", "kill → started ms", "kill → listening ms", "kill → ready ms", "failed requests in the gap"], rows)}

Heal = kill → first 200 from the new process. *Kill → started* is when the new process began (the app's own clock: Node's \`performance.timeOrigin\`), *kill → listening* when it started listening, *kill → ready* when Baton's readiness check first passed (PM2 has no readiness gate: its port answers as soon as the app listens). Failed requests: PM2's port refuses connections until the new process listens; Baton's proxy holds a request while no replica is ready (up to 5 s), so the client sees latency instead of errors.

| ratio | value | goal |
| --- | --- | --- |
| PM2 / Baton median heal time | ${round(r.ratio)}× | ${r.goal.text}: ${r.goal.met ? "met" : "NOT met"} |
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { trials: { type: "string", default: "10" } } });
  selfHealBench({ trials: Number(values.trials) }).then(
    (r) => process.stdout.write(renderSelfHealMarkdown(r)),
    (err: unknown) => {
      process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
