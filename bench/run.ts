/**
 * `npm run bench`: every benchmark, one after the other in one process — the proxy against
 * HAProxy, self-healing, idle cost and rolling updates against PM2, the controller's own
 * recovery — then bench/results/summary.md (and .json) with the machine, each table and the
 * ratios at a glance. Each bench also writes its own results (proxy.md, selfheal.md, idle.md,
 * rollout.md, recovery.md and their .json).
 *
 *   node --import tsx bench/run.ts [--only proxy,selfheal,idle,rollout,recovery,container-selfheal,container-rollout,images,hosts,delivery,observe-query,observe-cost,security-cost] [--quick]
 *
 * The container benches (Baton's docker runtime against `docker run` and Swarm) need dockerd
 * (started if missing, like the tests do) and join or initialise a single-node swarm.
 *
 * `--quick` runs smaller versions (for checking the harness, not for numbers) and writes
 * their results to a temporary folder, never over bench/results.
 */
import { execFileSync } from "node:child_process";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  type ContainerRolloutResult,
  containerRolloutBench,
  renderContainerRolloutMarkdown,
} from "./container-rollout.js";
import {
  type ContainerSelfHealResult,
  containerSelfHealBench,
  renderContainerSelfHealMarkdown,
} from "./container-selfheal.js";
import { type DeliveryResult, deliveryBench, renderDeliveryMarkdown } from "./delivery.js";
import { type HostsResult, hostsBench, renderHostsMarkdown } from "./hosts.js";
import { type IdleResult, idleBench, renderIdleMarkdown } from "./idle.js";
import { type ImagesResult, imagesBench, renderImagesMarkdown } from "./images.js";
import { round } from "./lib/stats.js";
import { markdownTable, RESULTS_DIR, writeResults } from "./lib/table.js";
import {
  type ObserveCostResult,
  observeCostBench,
  renderObserveCostMarkdown,
} from "./observe-cost.js";
import {
  type ObserveQueryResult,
  observeQueryBench,
  renderObserveQueryMarkdown,
} from "./observe-query.js";
import { ensurePm2, pm2Version, requireTool } from "./peers.js";
import { type BenchResult as ProxyResult, proxyBench, renderMarkdown } from "./proxy.js";
import { type RecoveryResult, recoveryBench, renderRecoveryMarkdown } from "./recovery.js";
import { type RolloutResult, renderRolloutMarkdown, rolloutBench } from "./rollout.js";
import {
  renderSecurityCostMarkdown,
  type SecurityCostResult,
  securityCostBench,
} from "./security-cost.js";
import { renderSelfHealMarkdown, type SelfHealResult, selfHealBench } from "./selfheal.js";

type BenchName =
  | "proxy"
  | "selfheal"
  | "idle"
  | "rollout"
  | "recovery"
  | "container-selfheal"
  | "container-rollout"
  | "images"
  | "hosts"
  | "delivery"
  | "observe-query"
  | "observe-cost"
  | "security-cost";
const ALL: readonly BenchName[] = [
  "proxy",
  "selfheal",
  "idle",
  "rollout",
  "recovery",
  "container-selfheal",
  "container-rollout",
  "images",
  "hosts",
  "delivery",
  "observe-query",
  "observe-cost",
  "security-cost",
];

interface Outcome<T> {
  readonly result?: T;
  readonly error?: string;
  readonly seconds: number;
}

export interface Summary {
  readonly name: "summary";
  readonly at: string;
  readonly machine: {
    readonly nproc: number;
    readonly node: string;
    readonly pm2: string;
    readonly haproxy: string;
    readonly wrk: string;
    readonly load: readonly [number, number];
  };
  readonly seconds: number;
  readonly proxy?: Outcome<ProxyResult>;
  readonly selfheal?: Outcome<SelfHealResult>;
  readonly idle?: Outcome<IdleResult>;
  readonly rollout?: Outcome<RolloutResult>;
  readonly recovery?: Outcome<RecoveryResult>;
  readonly containerSelfheal?: Outcome<ContainerSelfHealResult>;
  readonly containerRollout?: Outcome<ContainerRolloutResult>;
  readonly images?: Outcome<ImagesResult>;
  readonly hosts?: Outcome<HostsResult>;
  readonly delivery?: Outcome<DeliveryResult>;
  readonly observeQuery?: Outcome<ObserveQueryResult>;
  readonly observeCost?: Outcome<ObserveCostResult>;
  readonly securityCost?: Outcome<SecurityCostResult>;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

function firstLine(command: string, args: readonly string[]): string {
  try {
    const out = execFileSync(command, args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return out.split("\n")[0]?.trim() ?? "";
  } catch (error) {
    // `wrk -v` exits 1 after printing its version.
    const out = (error as { stdout?: string }).stdout ?? "";
    return out.split("\n")[0]?.trim() || "unknown";
  }
}

function nproc(): number {
  const n = Number(firstLine("nproc", []));
  return Number.isInteger(n) && n > 0 ? n : cpus().length;
}

async function timed<T>(name: string, run: () => Promise<T>): Promise<Outcome<T>> {
  log(`\n=== ${name}`);
  const t0 = Date.now();
  try {
    const result = await run();
    return { result, seconds: (Date.now() - t0) / 1_000 };
  } catch (error) {
    const message = (error as Error)?.stack ?? String(error);
    log(`${name} failed: ${message}`);
    return { error: message, seconds: (Date.now() - t0) / 1_000 };
  }
}

/** One bench's own markdown, its headings moved one level down to sit in the summary. */
function section(markdown: string): string {
  return markdown.replace(/^(#+) /gm, "#$1 ").trim();
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

function glance(s: Summary): string {
  const rows: (string | number)[][] = [];
  const p = s.proxy?.result;
  if (p !== undefined) {
    rows.push(
      [
        "proxy",
        "Baton / HAProxy req/s, HTTP",
        pct(p.ratios.httpThroughput),
        `≥ ${pct(p.goals.httpThroughput.goal)}`,
        p.goals.httpThroughput.met ? "met" : "NOT met",
      ],
      [
        "proxy",
        "Baton / HAProxy req/s, TCP",
        pct(p.ratios.tcpThroughput),
        `≥ ${pct(p.goals.tcpThroughput.goal)}`,
        p.goals.tcpThroughput.met ? "met" : "NOT met",
      ],
      [
        "proxy",
        "Baton − HAProxy p99, HTTP / TCP",
        `${round(p.ratios.httpP99DeltaMs)} / ${round(p.ratios.tcpP99DeltaMs)} ms`,
        `≤ ${p.goals.p99WithinMs.goal} ms`,
        p.goals.p99WithinMs.met ? "met" : "NOT met",
      ],
    );
  }
  const h = s.selfheal?.result;
  if (h !== undefined) {
    const ms = (n: "baton" | "pm2") =>
      h.managers.find((m) => m.name === n)?.ms.median ?? Number.NaN;
    rows.push([
      "selfheal",
      `PM2 / Baton heal time (${round(ms("pm2"))} / ${round(ms("baton"))} ms)`,
      `${round(h.ratio)}×`,
      "> 1",
      h.goal.met ? "met" : "NOT met",
    ]);
  }
  const i = s.idle?.result;
  if (i !== undefined) {
    rows.push(
      ["idle", "PM2 daemon / Baton controller+proxy, CPU", `${round(i.ratios.cpu)}×`, "info", "-"],
      ["idle", "PM2 daemon / Baton controller+proxy, RSS", `${round(i.ratios.rss)}×`, "info", "-"],
    );
  }
  const u = s.rollout?.result;
  if (u !== undefined) {
    const side = (n: "baton" | "baton-surge2" | "pm2") => u.sides.find((m) => m.name === n);
    const b = side("baton");
    const b2 = side("baton-surge2");
    const p2 = side("pm2");
    rows.push(
      [
        "rollout",
        `failed requests during rollouts, Baton (maxSurge 2: ${b2?.failedTotal ?? "-"} of ${b2?.requestsTotal ?? "-"}; PM2: ${p2?.failedTotal ?? "-"} of ${p2?.requestsTotal ?? "-"})`,
        `${b?.failedTotal ?? "-"} of ${b?.requestsTotal ?? "-"}`,
        "0",
        u.goal.met ? "met" : "NOT met",
      ],
      [
        "rollout",
        `Baton / PM2 rollout time (${round(b?.ms.median ?? Number.NaN)} / ${round(p2?.ms.median ?? Number.NaN)} ms)`,
        `${round(u.ratio)}×`,
        "info",
        "-",
      ],
    );
    if (b2 !== undefined && u.ratioSurge2 !== undefined) {
      rows.push([
        "rollout",
        `Baton maxSurge 2 / PM2 rollout time (${round(b2.ms.median)} / ${round(p2?.ms.median ?? Number.NaN)} ms)`,
        `${round(u.ratioSurge2)}×`,
        "info",
        "-",
      ]);
    }
  }
  const c = s.recovery?.result;
  if (c !== undefined) {
    const b = c.sides.find((m) => m.name === "baton");
    const p2 = c.sides.find((m) => m.name === "pm2");
    rows.push(
      [
        "recovery",
        "controller SIGKILL → `up -d` + `wait` converged",
        `${round(b?.ms.median ?? Number.NaN)} ms`,
        "info",
        "-",
      ],
      [
        "recovery",
        `failed requests; trials with all replicas adopted${p2 ? ` (PM2 resurrect: ${p2.failedTotal} failed, apps restarted)` : ""}`,
        `${b?.failedTotal ?? "-"}; ${b?.adoptedTrials ?? "-"} of ${c.settings.trials}`,
        "0; all",
        c.goal.met ? "met" : "NOT met",
      ],
    );
  }
  rows.push(...containerGlance(s));
  const g = s.images?.result;
  if (g !== undefined) {
    const ms = (n: "baton" | "hand") => g.sides.find((m) => m.name === n)?.ms.median ?? Number.NaN;
    rows.push([
      "images",
      `Baton (\`deploy --wait\`) / by hand build + push + deploy time (${round(ms("baton"))} / ${round(ms("hand"))} ms; two-step ${round(g.twoStepRatio)}×)`,
      `${round(g.ratio)}×`,
      "≤ 1.1",
      g.goal.met ? "met" : "NOT met",
    ]);
  }
  const o = s.hosts?.result;
  if (o !== undefined) {
    rows.push(
      [
        "hosts",
        `Ansible / Baton time, first run (${o.settings.hosts} hosts × ${o.settings.resourcesPerHost} resources)`,
        `${round(o.speedup.first)}×`,
        "≥ 10",
        o.goals.first ? "met" : "NOT met",
      ],
      [
        "hosts",
        "Ansible / Baton time, no-change run",
        `${round(o.speedup.noChange)}×`,
        "≥ 20",
        o.goals.noChange ? "met" : "NOT met",
      ],
      [
        "hosts",
        "`ansible -m setup` / `baton facts` time",
        `${round(o.speedup.facts)}×`,
        "info",
        "-",
      ],
    );
  }
  const d = s.delivery?.result;
  if (d !== undefined) {
    rows.push([
      "delivery",
      `Baton's overhead from git push to served in dev (push → served ${round(d.total.median)} ms)`,
      `${round(d.overhead.median)} ms`,
      `< ${d.goal.maxMs} ms`,
      d.goal.met ? "met" : "NOT met",
    ]);
  }
  const q = s.observeQuery?.result;
  if (q !== undefined) {
    rows.push([
      "observe-query",
      `metrics store: a day of 1-second samples of one series read back (${q.settings.daySamples} samples)`,
      `${round(q.selectDay.median)} ms`,
      `< ${q.goalMs} ms`,
      q.goalMet ? "met" : "NOT met",
    ]);
  }
  const cost = s.observeCost?.result;
  if (cost !== undefined) {
    rows.push(
      [
        "observe-cost",
        "proxy req/s with metrics on / off",
        `${cost.ratios.proxyThroughput}`,
        `≥ ${cost.goals.proxyThroughput.goal}`,
        cost.goals.proxyThroughput.met ? "met" : "NOT met",
      ],
      [
        "observe-cost",
        "controller CPU added by sampling 100 replicas every second (points of one core)",
        `${cost.ratios.controllerCpuPointsAdded}`,
        `< ${cost.goals.controllerCpu.goal}`,
        cost.goals.controllerCpu.met ? "met" : "NOT met",
      ],
    );
  }
  const security = s.securityCost?.result;
  if (security !== undefined) {
    rows.push([
      "security-cost",
      "decryption + audit append / apply (all secrets bring to apply / status)",
      `${round(100 * security.added.decryptAndAuditOfApply)} % (${round(100 * security.added.apply)} % / ${round(100 * security.added.status)} %)`,
      `< ${round(100 * security.goal.goal)} %`,
      security.goal.met ? "met" : "NOT met",
    ]);
  }
  return rows.length === 0
    ? "No benchmark finished."
    : markdownTable(["bench", "ratio", "value", "goal", "status"], rows);
}

function containerGlance(s: Summary): (string | number)[][] {
  const rows: (string | number)[][] = [];
  const h = s.containerSelfheal?.result;
  for (const side of h?.sides ?? []) {
    if (side.contender === "baton") continue;
    rows.push([
      "container-selfheal",
      `${side.contender} / Baton heal time after ${side.takedown}`,
      side.ratioVsBaton === undefined
        ? `${side.contender}: not healed within ${(h?.settings.windowMs ?? 0) / 1000} s`
        : `${round(side.ratioVsBaton)}×`,
      "info",
      "-",
    ]);
  }
  const u = s.containerRollout?.result;
  if (u !== undefined) {
    const failed = u.sides.map((x) => `${x.name} ${x.failedTotal} of ${x.requestsTotal}`);
    rows.push([
      "container-rollout",
      `failed requests, Baton (${failed.slice(1).join("; ")})`,
      failed[0] ?? "-",
      "0",
      u.goal.met ? "met" : "NOT met",
    ]);
    for (const side of u.sides.slice(1)) {
      rows.push([
        "container-rollout",
        `${side.name} / Baton rollout time`,
        `${round(side.ratioVsBaton)}×`,
        "info",
        "-",
      ]);
    }
  }
  return rows;
}

export function renderSummary(s: Summary): string {
  const m = s.machine;
  const parts = [
    `# Baton benchmarks

${s.at} — \`nproc\` ${m.nproc}, Node ${m.node}, PM2 ${m.pm2}, ${m.haproxy}, ${m.wrk}; load average ${m.load[0]} before, ${m.load[1]} after; ${Math.round(s.seconds)} s in all.

Every figure is the median (min–max) of repeated runs on a small shared machine: compare ratios, not absolute numbers, and rerun before trusting a difference of a few percent. How to read each table: bench/README.md.

## At a glance

${glance(s)}`,
  ];
  const add = <T>(
    name: string,
    outcome: Outcome<T> | undefined,
    render: (r: T) => string,
  ): void => {
    if (outcome === undefined) return;
    parts.push(
      outcome.result !== undefined
        ? section(render(outcome.result))
        : `## ${name}\n\nFailed after ${Math.round(outcome.seconds)} s:\n\n\`\`\`\n${outcome.error}\n\`\`\``,
    );
  };
  add("proxy", s.proxy, renderMarkdown);
  add("selfheal", s.selfheal, renderSelfHealMarkdown);
  add("idle", s.idle, renderIdleMarkdown);
  add("rollout", s.rollout, renderRolloutMarkdown);
  add("recovery", s.recovery, renderRecoveryMarkdown);
  add("container-selfheal", s.containerSelfheal, renderContainerSelfHealMarkdown);
  add("container-rollout", s.containerRollout, renderContainerRolloutMarkdown);
  add("images", s.images, renderImagesMarkdown);
  add("hosts", s.hosts, renderHostsMarkdown);
  add("delivery", s.delivery, renderDeliveryMarkdown);
  add("observe-query", s.observeQuery, renderObserveQueryMarkdown);
  add("observe-cost", s.observeCost, renderObserveCostMarkdown);
  add("security-cost", s.securityCost, renderSecurityCostMarkdown);
  return `${parts.join("\n\n")}\n`;
}

export async function runAll(
  only: readonly BenchName[],
  quick: boolean,
  resultsDir = quick ? join(tmpdir(), "baton-bench-quick") : RESULTS_DIR,
): Promise<Summary> {
  const t0 = Date.now();
  const loadBefore = loadavg()[0] ?? 0;
  // Fail early, before anything starts, when a peer is missing.
  if (only.includes("proxy")) {
    requireTool("haproxy");
    requireTool("wrk");
  }
  if (only.includes("hosts")) requireTool("ansible-playbook", "ansible-core");
  if (["selfheal", "idle", "rollout", "recovery"].some((n) => only.includes(n as BenchName))) {
    ensurePm2(log);
  }

  const proxy = only.includes("proxy")
    ? await timed("proxy", () =>
        proxyBench(quick ? { durationS: 2, repeats: 2, resultsDir, log } : { resultsDir, log }),
      )
    : undefined;
  if (proxy?.result) process.stdout.write(`${renderMarkdown(proxy.result)}\n`);
  const selfheal = only.includes("selfheal")
    ? await timed("selfheal", () =>
        selfHealBench(quick ? { trials: 3, resultsDir, log } : { resultsDir, log }),
      )
    : undefined;
  if (selfheal?.result) process.stdout.write(`${renderSelfHealMarkdown(selfheal.result)}\n`);
  const idle = only.includes("idle")
    ? await timed("idle", () =>
        idleBench(
          quick ? { apps: 10, windows: 2, windowS: 5, resultsDir, log } : { resultsDir, log },
        ),
      )
    : undefined;
  if (idle?.result) process.stdout.write(`${renderIdleMarkdown(idle.result)}\n`);
  const rollout = only.includes("rollout")
    ? await timed("rollout", () =>
        rolloutBench(quick ? { trials: 1, padMs: 500, resultsDir, log } : { resultsDir, log }),
      )
    : undefined;
  if (rollout?.result) process.stdout.write(`${renderRolloutMarkdown(rollout.result)}\n`);
  const recovery = only.includes("recovery")
    ? await timed("recovery", () =>
        recoveryBench(quick ? { trials: 2, padMs: 500, resultsDir, log } : { resultsDir, log }),
      )
    : undefined;
  if (recovery?.result) process.stdout.write(`${renderRecoveryMarkdown(recovery.result)}\n`);
  const containerSelfheal = only.includes("container-selfheal")
    ? await timed("container-selfheal", () =>
        containerSelfHealBench(
          quick ? { trials: 1, windowMs: 15_000, resultsDir, log } : { resultsDir, log },
        ),
      )
    : undefined;
  if (containerSelfheal?.result) {
    process.stdout.write(`${renderContainerSelfHealMarkdown(containerSelfheal.result)}\n`);
  }
  const containerRollout = only.includes("container-rollout")
    ? await timed("container-rollout", () =>
        containerRolloutBench(
          quick ? { trials: 1, padMs: 500, resultsDir, log } : { resultsDir, log },
        ),
      )
    : undefined;
  if (containerRollout?.result) {
    process.stdout.write(`${renderContainerRolloutMarkdown(containerRollout.result)}\n`);
  }
  const images = only.includes("images")
    ? await timed("images", () =>
        imagesBench(quick ? { trials: 3, resultsDir, log } : { resultsDir, log }),
      )
    : undefined;
  if (images?.result) process.stdout.write(`${renderImagesMarkdown(images.result)}\n`);
  const hosts = only.includes("hosts")
    ? await timed("hosts", () =>
        hostsBench(
          quick ? { hosts: 2, trials: 1, ansibleTrials: 1, resultsDir, log } : { resultsDir, log },
        ),
      )
    : undefined;
  if (hosts?.result) process.stdout.write(`${renderHostsMarkdown(hosts.result)}\n`);
  const delivery = only.includes("delivery")
    ? await timed("delivery", () =>
        deliveryBench(quick ? { trials: 1, resultsDir, log } : { resultsDir, log }),
      )
    : undefined;
  if (delivery?.result) process.stdout.write(`${renderDeliveryMarkdown(delivery.result)}\n`);
  const observeQuery = only.includes("observe-query")
    ? await timed("observe-query", () => observeQueryBench({ quick, resultsDir, log }))
    : undefined;
  if (observeQuery?.result) {
    process.stdout.write(`${renderObserveQueryMarkdown(observeQuery.result)}\n`);
  }
  const observeCost = only.includes("observe-cost")
    ? await timed("observe-cost", () =>
        observeCostBench(
          quick
            ? { apps: 10, windows: 2, windowS: 5, durationS: 3, repeats: 1, resultsDir, log }
            : { resultsDir, log },
        ),
      )
    : undefined;
  if (observeCost?.result) {
    process.stdout.write(`${renderObserveCostMarkdown(observeCost.result)}\n`);
  }
  const securityCost = only.includes("security-cost")
    ? await timed("security-cost", () =>
        securityCostBench(quick ? { repeats: 3, resultsDir, log } : { resultsDir, log }),
      )
    : undefined;
  if (securityCost?.result) {
    process.stdout.write(`${renderSecurityCostMarkdown(securityCost.result)}\n`);
  }

  const summary: Summary = {
    name: "summary",
    at: new Date().toISOString(),
    machine: {
      nproc: nproc(),
      node: process.version,
      pm2: pm2Version(),
      haproxy: /^HAProxy version \S+/.exec(firstLine("haproxy", ["-v"]))?.[0] ?? "HAProxy unknown",
      wrk: /^wrk \S+/.exec(firstLine("wrk", ["-v"]))?.[0] ?? "wrk unknown",
      load: [round(loadBefore), round(loadavg()[0] ?? 0)],
    },
    seconds: (Date.now() - t0) / 1_000,
    ...(proxy ? { proxy } : {}),
    ...(selfheal ? { selfheal } : {}),
    ...(idle ? { idle } : {}),
    ...(rollout ? { rollout } : {}),
    ...(recovery ? { recovery } : {}),
    ...(containerSelfheal ? { containerSelfheal } : {}),
    ...(containerRollout ? { containerRollout } : {}),
    ...(images ? { images } : {}),
    ...(hosts ? { hosts } : {}),
    ...(delivery ? { delivery } : {}),
    ...(observeQuery ? { observeQuery } : {}),
    ...(observeCost ? { observeCost } : {}),
    ...(securityCost ? { securityCost } : {}),
  };
  const paths = writeResults("summary", renderSummary(summary), summary, resultsDir);
  log(`\nsummary: ${paths.markdown} (and ${paths.json}); ${Math.round(summary.seconds)} s`);
  return summary;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      only: { type: "string", default: ALL.join(",") },
      quick: { type: "boolean", default: false },
    },
  });
  const only = values.only.split(",").map((s) => s.trim()) as BenchName[];
  const unknown = only.filter((n) => !ALL.includes(n));
  if (unknown.length > 0) {
    log(`unknown bench ${unknown.join(", ")}: choose from ${ALL.join(", ")}`);
    process.exit(2);
  }
  runAll(only, values.quick).then(
    (s) => {
      process.stdout.write(`\n${glance(s)}\n`);
      const outcomes = [
        s.proxy,
        s.selfheal,
        s.idle,
        s.rollout,
        s.recovery,
        s.containerSelfheal,
        s.containerRollout,
        s.images,
      ];
      if (outcomes.some((o) => o?.error !== undefined)) process.exitCode = 1;
    },
    (err: unknown) => {
      process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
