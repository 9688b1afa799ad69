/**
 * A rolling update of 4 container replicas under a bounded load: failed requests (goal 0)
 * and duration. Baton (runtime: docker, behind its proxy) against `docker service update
 * --update-order start-first` on Swarm, without and with a HEALTHCHECK on the service; the
 * same image everywhere.
 *
 * - Baton: `env: { VERSION }` changed in baton.yaml, `baton apply --wait`; readiness
 *   `http: /healthz` every 1 s; the default update policy (one extra replica at a time, none
 *   unavailable). Load: on the host, to Baton's proxy port on 127.0.0.1.
 * - Swarm: `docker service update --env-add VERSION=… --update-order start-first` (one task
 *   at a time, no delay: Swarm's defaults), `--endpoint-mode dnsrr` on an overlay network —
 *   this kernel has no IPVS, so neither the routing mesh nor VIP balancing works. Load: the
 *   same script in a container on that overlay network, resolving the service's name (its
 *   tasks' addresses) every 100 ms and spreading requests over them: what a client of a
 *   dnsrr service does. With HEALTHCHECK: `--health-cmd` asking /healthz every 1 s (the same
 *   period as Baton's readiness check; timeout 5 s, 3 retries, start period 10 s); Swarm then takes a new task as running, and lists it
 *   in DNS, only once healthy.
 *
 * The load: 200 req/s over 8 loops, each request on a fresh connection, from 1 s before the
 * trigger to 1 s after the rollout converged, bounded in time and count; every non-2xx,
 * refused, reset or timed-out (5 s) request is failed. Duration: trigger → the contender's
 * running containers are the 4 new ones and none of the old (polled through the Engine API
 * every 50 ms, the same observer for all). For information: Baton's `apply --wait` wall
 * time, and trigger → Swarm's own `UpdateStatus` "completed".
 *
 *   node --import tsx bench/container-rollout.ts [--trials 3]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { docker, ensureDocker, removeTestContainers } from "../test/helpers/docker.js";
import { BatonProject, type ControllerStatus } from "./lib/baton-cli.js";
import {
  APP_COMMAND,
  APP_PORT,
  containerAppImage,
  HEALTH_COMMAND,
  parseAppAnswer,
} from "./lib/container-app.js";
import {
  type LoadReport,
  type LoadSettings,
  type RunningContainerLoad,
  startContainerLoad,
  startHostLoad,
  writeLoadScript,
} from "./lib/container-load.js";
import {
  type RunningContainer,
  runningContainers,
  serviceUpdateStatus,
  taskError,
} from "./lib/containers.js";
import { getOnce } from "./lib/http-get.js";
import { freePort } from "./lib/net.js";
import { round, type Summary, summarize } from "./lib/stats.js";
import { markdownTable, writeResults } from "./lib/table.js";
import { waitFor } from "./lib/wait.js";
import {
  createOverlay,
  createService,
  dockerVersion,
  ensureSwarm,
  newSwarmRun,
  releaseSwarm,
  removeSwarmRun,
  type SwarmRun,
} from "./swarm-peer.js";

export type RolloutSideName = "baton" | "swarm" | "swarm-healthcheck";

export interface ContainerRolloutOptions {
  readonly trials?: number;
  readonly ratePerS?: number;
  /** Load before the trigger and after convergence. */
  readonly padMs?: number;
  readonly resultsDir?: string;
  readonly log?: (line: string) => void;
}

export interface RolloutTrial {
  readonly version: string;
  /** Trigger → 4 new containers running, none of the old. */
  readonly ms: number;
  /** Baton: `apply --wait` wall time; Swarm: trigger → UpdateStatus "completed". */
  readonly commandMs?: number;
  /** Swarm: how its update ended (completed, or paused when a new task failed). */
  readonly updateState?: string;
  readonly requests: number;
  /** requests / the load's duration. */
  readonly achievedPerS: number;
  readonly failed: number;
  readonly errors: Readonly<Record<string, number>>;
}

export interface RolloutSide {
  readonly name: RolloutSideName;
  readonly ms: Summary;
  readonly commandMs?: Summary;
  readonly failed: Summary;
  readonly failedTotal: number;
  readonly requestsTotal: number;
  /** This side's median duration / Baton's (above 1: Baton is faster). */
  readonly ratioVsBaton: number;
  readonly trials: readonly RolloutTrial[];
}

export interface ContainerRolloutResult {
  readonly name: "container-rollout";
  readonly at: string;
  readonly machine: {
    readonly cpus: number;
    readonly node: string;
    readonly docker: string;
    readonly load: readonly [number, number];
  };
  readonly settings: {
    readonly trials: number;
    readonly replicas: number;
    readonly ratePerS: number;
    readonly connections: number;
    readonly padMs: number;
    readonly image: string;
  };
  readonly sides: readonly RolloutSide[];
  readonly goal: { readonly text: string; readonly met: boolean };
}

const REPLICAS = 4;
const CONNECTIONS = 8;
const CONVERGE_DEADLINE_MS = 120_000;

interface Side {
  readonly name: RolloutSideName;
  /** Labels that select this side's containers. */
  readonly labels: readonly string[];
  /** The release a container runs, from its labels. */
  versionOf(c: RunningContainer): string;
  startLoad(settings: Omit<LoadSettings, "target">): Promise<RunningContainerLoad>;
  /** Starts the rollout to `version`; resolves when the side's own command is done. */
  trigger(version: string): Promise<void>;
  /** Baton's command returns when done; Swarm's update is followed through its status. */
  readonly followsUpdateStatus: boolean;
  readonly service?: string;
}

function batonYaml(image: string, port: number, version: string): string {
  return `project: bench-container-rollout
apps:
  web:
    runtime: docker
    image: ${image}
    command: ${JSON.stringify(APP_COMMAND)}
    containerPort: ${APP_PORT}
    replicas: ${REPLICAS}
    port: ${port}
    env: { VERSION: "${version}" }
    health:
      readiness: { http: /healthz, interval: 1s }
`;
}

async function until(
  side: Side,
  done: (running: readonly RunningContainer[]) => boolean,
  what: string,
): Promise<void> {
  await waitFor(
    async () => done(await runningContainers(side.labels)),
    `${side.name}: ${what}`,
    CONVERGE_DEADLINE_MS,
    50,
  );
}

async function rolloutTrial(
  side: Side,
  version: string,
  ratePerS: number,
  padMs: number,
  log: (line: string) => void,
): Promise<RolloutTrial> {
  // After a Swarm update that paused, the service may still be replacing a task.
  await until(side, (running) => running.length === REPLICAS, `${REPLICAS} containers running`);
  const load = await side.startLoad({
    ratePerS,
    connections: CONNECTIONS,
    maxDurationMs: CONVERGE_DEADLINE_MS + 30_000,
    timeoutMs: 5_000,
    resolveEveryMs: 100,
  });
  let report: LoadReport | undefined;
  try {
    await new Promise((r) => setTimeout(r, padMs));
    const t0 = performance.now();
    let commandMs: number | undefined;
    const command = side.trigger(version).then(() => {
      if (!side.followsUpdateStatus) commandMs = performance.now() - t0;
    });
    let failedCommand: unknown;
    command.catch((e: unknown) => (failedCommand = e));
    await until(
      side,
      (running) => {
        if (failedCommand !== undefined) throw failedCommand;
        return running.length === REPLICAS && running.every((c) => side.versionOf(c) === version);
      },
      `${REPLICAS} containers of version ${version} and none older`,
    );
    const ms = performance.now() - t0;
    await command;
    let updateState: string | undefined;
    if (side.followsUpdateStatus && side.service !== undefined) {
      const service = side.service;
      let status: { state?: string; message?: string } = {};
      await waitFor(
        async () => {
          status = await serviceUpdateStatus(service);
          return status.state !== undefined && status.state !== "updating";
        },
        `${side.name}: the service update to end`,
        CONVERGE_DEADLINE_MS,
        100,
      );
      updateState = status.state;
      if (status.state === "completed") commandMs = performance.now() - t0;
      else {
        const task = /task (\w+)/.exec(status.message ?? "")?.[1];
        const why = task === undefined ? "" : await taskError(task).catch(() => "");
        log(`${side.name}: the update ended ${status.state}: ${status.message ?? ""} ${why}`);
      }
    }
    await new Promise((r) => setTimeout(r, padMs));
    report = await load.stop();
    const last = Object.entries(report.versions).sort((a, b) => b[1].lastAt - a[1].lastAt)[0];
    if (last?.[0] !== version) {
      const why = `${side.name}: the load's last answers were of version ${last?.[0]}, not ${version}`;
      // A Swarm update that paused is reported as such; anything else is a broken trial.
      if (updateState === undefined || updateState === "completed") throw new Error(why);
      log(why);
    }
    return {
      version,
      ms,
      ...(commandMs === undefined ? {} : { commandMs }),
      ...(updateState === undefined ? {} : { updateState }),
      requests: report.requests,
      achievedPerS: (report.requests * 1_000) / Math.max(1, report.stoppedAt - report.startedAt),
      failed: report.failed,
      errors: report.errors,
    };
  } finally {
    if (report === undefined) await load.abort();
  }
}

export async function containerRolloutBench(
  opts: ContainerRolloutOptions = {},
): Promise<ContainerRolloutResult> {
  const trials = opts.trials ?? 3;
  const ratePerS = opts.ratePerS ?? 200;
  const padMs = opts.padMs ?? 1_000;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const loadBefore = loadavg()[0] ?? 0;
  await ensureDocker();
  const image = await containerAppImage();
  log(`image ${image}`);

  const work = mkdtempSync(join(tmpdir(), "baton-bench-container-rollout-"));
  const project = new BatonProject(work);
  const script = writeLoadScript();
  const run: SwarmRun = newSwarmRun("rollout");
  const network = `${run.id}-net`;
  let lastStatus: ControllerStatus | undefined;
  let swarmUsed = false;
  try {
    const port = await freePort();
    writeFileSync(project.file, batonYaml(image, port, "1"));
    lastStatus = await project.up(120);
    log(`baton: controller ${lastStatus.controller.pid}, proxy port ${port}`);
    let batonRevision = "";
    let rollingTo = "";
    const revisions = new Map<string, string>();

    await ensureSwarm();
    swarmUsed = true;
    await createOverlay(run, network);
    const swarmFlags = (health: boolean) => [
      "--replicas",
      String(REPLICAS),
      "--endpoint-mode",
      "dnsrr",
      "--network",
      network,
      "--update-order",
      "start-first",
      "--env",
      "VERSION=1",
      "--container-label",
      "bench.version=1",
      ...(health
        ? [
            "--health-cmd",
            HEALTH_COMMAND.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" "),
            "--health-interval",
            "1s",
            "--health-timeout",
            "5s",
            "--health-retries",
            "3",
            // Failures while the task starts do not count (the first success makes it
            // healthy): a slow start on a busy machine must not fail the update.
            "--health-start-period",
            "10s",
          ]
        : ["--no-healthcheck"]),
    ];
    const swarmSide = (name: RolloutSideName, health: boolean): Side => {
      const service = `${run.id}-${health ? "hc" : "plain"}`;
      return {
        name,
        service,
        labels: [`baton.bench.run=${run.id}`, `com.docker.swarm.service.name=${service}`],
        versionOf: (c) => c.labels["bench.version"] ?? "",
        followsUpdateStatus: true,
        startLoad: (settings) =>
          startContainerLoad(
            script.dir,
            { ...settings, target: `dns:${service}:${APP_PORT}` },
            { image, network, name: `${service}-load`, labels: run.labels },
          ),
        trigger: async (version) => {
          await docker([
            "service",
            "update",
            "--detach",
            "--no-resolve-image",
            "--update-order",
            "start-first",
            "--env-add",
            `VERSION=${version}`,
            "--container-label-add",
            `bench.version=${version}`,
            service,
          ]);
        },
      };
    };
    const sides: Side[] = [
      {
        name: "baton",
        labels: [`baton.state=${project.stateDir}`, "baton.app=web"],
        // Baton's containers carry the revision; the bench maps revisions to versions, and a
        // revision it has not seen yet is the one being rolled out.
        versionOf: (c) => revisions.get(c.labels["baton.revision"] ?? "") ?? rollingTo,
        followsUpdateStatus: false,
        startLoad: (settings) =>
          startHostLoad(script.dir, { ...settings, target: `127.0.0.1:${port}` }),
        trigger: async (version) => {
          rollingTo = version;
          writeFileSync(project.file, batonYaml(image, port, version));
          await project.cli(["apply", "--wait", "--timeout", "120s"], 180_000);
          const status = await project.status();
          batonRevision = status.apps.find((a) => a.name === "web")?.revision ?? "";
          revisions.set(batonRevision, version);
        },
      },
      swarmSide("swarm", false),
      swarmSide("swarm-healthcheck", true),
    ];
    const initial = await project.status();
    revisions.set(initial.apps.find((a) => a.name === "web")?.revision ?? "", "1");
    for (const side of sides.slice(1)) {
      if (side.service === undefined) continue;
      await createService(run, side.service, image, swarmFlags(side.name === "swarm-healthcheck"));
    }
    for (const side of sides) {
      await until(
        side,
        (running) => running.length === REPLICAS && running.every((c) => side.versionOf(c) === "1"),
        `${REPLICAS} containers of version 1`,
      );
    }
    // Baton's app answers through its proxy before the first trial.
    await waitFor(
      async () => {
        const r = await getOnce(port, 2_000);
        return r.ok && parseAppAnswer(r.body)?.version === "1";
      },
      "Baton's proxy to answer",
      30_000,
      100,
    );
    log(
      `swarm: services ${sides
        .slice(1)
        .map((s) => s.service)
        .join(", ")} on ${network}`,
    );

    const runs = new Map<RolloutSideName, RolloutTrial[]>(sides.map((s) => [s.name, []]));
    for (let i = 0; i < trials; i++) {
      const version = String(i + 2);
      const order = sides.map((_, k) => sides[(k + i) % sides.length] as Side);
      for (const side of order) {
        const t = await rolloutTrial(side, version, ratePerS, padMs, log);
        runs.get(side.name)?.push(t);
        log(
          `trial ${i + 1}/${trials} ${side.name.padEnd(17)} ${t.ms.toFixed(0)} ms (command ${t.commandMs?.toFixed(0) ?? "-"} ms), ${t.failed} failed of ${t.requests}${t.failed > 0 ? ` ${JSON.stringify(t.errors)}` : ""}`,
        );
      }
    }
    lastStatus = await project.status();

    const batonMs = summarize((runs.get("baton") ?? []).map((t) => t.ms));
    const results: RolloutSide[] = sides.map((side) => {
      const list = runs.get(side.name) ?? [];
      const ms = summarize(list.map((t) => t.ms));
      const command = list.map((t) => t.commandMs).filter((x): x is number => x !== undefined);
      return {
        name: side.name,
        ms,
        ...(command.length > 0 ? { commandMs: summarize(command) } : {}),
        failed: summarize(list.map((t) => t.failed)),
        failedTotal: list.reduce((n, t) => n + t.failed, 0),
        requestsTotal: list.reduce((n, t) => n + t.requests, 0),
        ratioVsBaton: batonMs.median === 0 ? Number.NaN : ms.median / batonMs.median,
        trials: list,
      };
    });
    const baton = results.find((s) => s.name === "baton");
    const result: ContainerRolloutResult = {
      name: "container-rollout",
      at: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        node: process.version,
        docker: await dockerVersion(),
        load: [round(loadBefore), round(loadavg()[0] ?? 0)],
      },
      settings: { trials, replicas: REPLICAS, ratePerS, connections: CONNECTIONS, padMs, image },
      sides: results,
      goal: {
        text: "no failed request during Baton's container rollouts",
        met: baton !== undefined && baton.failedTotal === 0,
      },
    };
    const paths = writeResults(
      "container-rollout",
      renderContainerRolloutMarkdown(result),
      result,
      opts.resultsDir,
    );
    log(`results: ${paths.markdown}`);
    return result;
  } finally {
    await project.down(lastStatus, log);
    await removeTestContainers(`baton.state=${project.stateDir}`).catch((e: unknown) =>
      log(`warning: ${(e as Error).message}`),
    );
    if (swarmUsed) {
      // The load containers (--rm, removed on stop) and the services, then the network.
      await removeSwarmRun(run, log);
      await releaseSwarm(log);
    }
    script.remove();
    rmSync(work, { recursive: true, force: true });
  }
}

const LABELS: Record<RolloutSideName, string> = {
  baton: "Baton (runtime: docker, proxy, readiness /healthz 1 s)",
  swarm: "Swarm start-first, no HEALTHCHECK (dnsrr)",
  "swarm-healthcheck": "Swarm start-first, HEALTHCHECK /healthz 1 s (dnsrr)",
};

export function renderContainerRolloutMarkdown(r: ContainerRolloutResult): string {
  const f = (s: Summary) => `${round(s.min)} / ${round(s.median)} / ${round(s.max)}`;
  const rows = r.sides.map((s) => [
    LABELS[s.name],
    f(s.ms),
    `${s.failedTotal} of ${s.requestsTotal}`,
    f(s.failed),
    `${s.commandMs === undefined ? "-" : f(s.commandMs)}${notCompleted(s.trials)}`,
    s.name === "baton" ? "1" : `${round(s.ratioVsBaton)}×`,
    f(summarize(s.trials.map((t) => t.achievedPerS))),
    errorKinds(s.trials),
  ]);
  return `# Container rolling-update benchmark

${r.at} — ${r.machine.cpus} CPUs, Node ${r.machine.node}, ${r.machine.docker}; load average ${r.machine.load[0]} before, ${r.machine.load[1]} after

${r.settings.replicas} replicas of the same image (${r.settings.image}), a new VERSION rolled out under ${r.settings.ratePerS} req/s (${r.settings.connections} loops, a fresh connection per request, from ${r.settings.padMs / 1000} s before the trigger to ${r.settings.padMs / 1000} s after convergence); ${r.settings.trials} rollouts per contender, the order rotating. Baton's load goes to its proxy port on the host; Swarm's runs in a container on the service's overlay network and round-robins over the service's DNS answer (\`--endpoint-mode dnsrr\`, re-resolved every 100 ms): this kernel has no IPVS, so Swarm's routing mesh and VIP cannot be measured.

${markdownTable(["contender", "rollout ms min / median / max", "failed requests (all rollouts)", "failed per rollout min / median / max", "command ms min / median / max", "duration / Baton", "achieved req/s", "failures by kind"], rows)}

*Rollout ms*: trigger → the contender's running containers are the ${r.settings.replicas} new ones and none of the old (Engine API, every 50 ms). *Command ms*: Baton's \`apply --wait\` wall time (the CLI's start included); Swarm's trigger → its \`UpdateStatus\` says completed. *Achieved req/s*: what the load managed (a loop more than 250 ms behind its schedule gives up the slots it missed: slow answers on a busy machine). *Duration / Baton*: above 1, Baton rolls out faster. Goal: ${r.goal.text} — ${r.goal.met ? "met" : "NOT met"}.
`;
}

/** Swarm updates that ended otherwise than "completed" (paused after a failed task). */
function notCompleted(trials: readonly RolloutTrial[]): string {
  const ended = trials.filter((t) => t.updateState !== undefined && t.updateState !== "completed");
  return ended.length === 0
    ? ""
    : ` (${ended.length} ended ${[...new Set(ended.map((t) => t.updateState))].join(", ")})`;
}

function errorKinds(trials: readonly RolloutTrial[]): string {
  const all: Record<string, number> = {};
  for (const t of trials) for (const [k, n] of Object.entries(t.errors)) all[k] = (all[k] ?? 0) + n;
  const kinds = Object.entries(all).map(([k, n]) => `${k} ${n}`);
  return kinds.length === 0 ? "-" : kinds.join(", ");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { trials: { type: "string", default: "3" } } });
  containerRolloutBench({ trials: Number(values.trials) }).then(
    (r) => process.stdout.write(renderContainerRolloutMarkdown(r)),
    (err: unknown) => {
      process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
