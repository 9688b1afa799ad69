/**
 * Container self-healing: a replica's container taken down → a replacement serving where
 * users reach the app. Baton (runtime: docker, behind its proxy) against `docker run
 * --restart=always` and a Swarm service, the same image, 2 replicas each, all at once.
 *
 * Two ways down, each trial, for each contender:
 * - `docker kill` (the engine's POST /containers/ID/kill, as the CLI sends it): to Docker a
 *   MANUAL stop, so `--restart=always` does not restart the container (measured anyway: "not
 *   healed within the window"); Swarm sees a failed task; Baton sees a container gone.
 * - a crash: SIGKILL from the host to the container's main process (its `State.Pid`); the
 *   container exits by itself, which every restart policy handles.
 *
 * Heal = kill → BOTH the contender's running containers are back to 2 AND a request is
 * answered by a process started after the kill (the app answers with its container's
 * hostname and its process's start time, so a container Docker restarts in place counts once
 * its new process answers). Where the request goes is what users of each would hit:
 * - Baton: its proxy's public port (2 fresh GETs per poll: the proxy spreads them);
 * - `docker run`: the killed container's own published port (127.0.0.1:P→8080; no balancer);
 * - Swarm: no routing mesh on this kernel (no IPVS), so each task publishes its port in host
 *   mode; a poll GETs every task container that appeared after the kill.
 * Each poll round lists the running containers through the Engine API, then sends its GETs,
 * every 5 ms, for every contender alike. Failed requests during the gap are counted for
 * information (Baton's: through the proxy, which still has the other replica).
 *
 * Settings are each tool's defaults except: Baton `restart: { resetAfter: 1s }` (its crash
 * loop backoff starts over after 1 s up), and trials wait until the victim ran long enough
 * to be a first crash: 2 s (Baton, Swarm: its `--restart-delay` is a fixed 5 s by default,
 * no growing backoff), 11 s (`docker run`: Docker resets its restart backoff, 100 ms
 * doubling, after a container ran 10 s).
 *
 *   node --import tsx bench/container-selfheal.ts [--trials 3]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { docker, ensureDocker, removeTestContainers } from "../test/helpers/docker.js";
import { BatonProject, type ControllerStatus } from "./lib/baton-cli.js";
import { APP_COMMAND, APP_PORT, containerAppImage, parseAppAnswer } from "./lib/container-app.js";
import {
  containerState,
  crashContainer,
  dockerKill,
  type RunningContainer,
  runningContainers,
} from "./lib/containers.js";
import { getOnce } from "./lib/http-get.js";
import { freePorts } from "./lib/net.js";
import { round, type Summary, summarize } from "./lib/stats.js";
import { markdownTable, writeResults } from "./lib/table.js";
import { waitFor } from "./lib/wait.js";
import {
  createService,
  dockerVersion,
  ensureSwarm,
  newSwarmRun,
  releaseSwarm,
  removeSwarmRun,
  type SwarmRun,
} from "./swarm-peer.js";

export type Contender = "baton" | "docker-run" | "swarm";
export type Takedown = "docker-kill" | "crash";

export interface ContainerSelfHealOptions {
  readonly trials?: number;
  /** How long a contender has to heal before the trial counts it as not healed. */
  readonly windowMs?: number;
  readonly pollMs?: number;
  readonly resultsDir?: string;
  readonly log?: (line: string) => void;
}

export interface HealTrial {
  /** Kill → back to 2 running and a new process answered; undefined: not within the window. */
  readonly ms?: number;
  /** Requests that failed before then. */
  readonly failed: number;
  readonly polls: number;
}

export interface HealSide {
  readonly contender: Contender;
  readonly takedown: Takedown;
  /** Over the trials that healed; absent when none did. */
  readonly ms?: Summary;
  readonly healed: number;
  readonly trials: readonly HealTrial[];
  readonly failed: Summary;
  /** This side's median / Baton's for the same takedown (above 1: Baton heals faster). */
  readonly ratioVsBaton?: number;
}

export interface ContainerSelfHealResult {
  readonly name: "container-selfheal";
  readonly at: string;
  readonly machine: {
    readonly cpus: number;
    readonly node: string;
    readonly docker: string;
    readonly load: readonly [number, number];
  };
  readonly settings: {
    readonly trials: number;
    readonly windowMs: number;
    readonly pollMs: number;
    readonly replicas: number;
    readonly image: string;
  };
  readonly sides: readonly HealSide[];
}

const REPLICAS = 2;
const CONTENDERS: readonly Contender[] = ["baton", "docker-run", "swarm"];
const TAKEDOWNS: readonly Takedown[] = ["docker-kill", "crash"];

interface Target {
  readonly name: Contender;
  /** Labels that select this contender's containers. */
  readonly labels: readonly string[];
  /** How long the victim must have run for its death to be a first crash. */
  readonly stableMs: number;
  /** Ports a poll GETs, given the killed container and the containers running now. */
  ports(
    killed: RunningContainer,
    now: readonly RunningContainer[],
    before: ReadonlySet<string>,
  ): number[];
  /** Puts the contender back to 2 running when it did not heal (docker run after docker kill). */
  restore(killed: RunningContainer): Promise<void>;
}

/** One poll round: the containers running, then a GET on each port; true once healed. */
async function pollOnce(
  target: Target,
  killed: RunningContainer,
  before: ReadonlySet<string>,
  killedAt: number,
  counts: { failed: number; polls: number },
): Promise<boolean> {
  const now = await runningContainers(target.labels);
  let answeredByNew = false;
  for (const port of target.ports(killed, now, before)) {
    counts.polls += 1;
    const r = await getOnce(port, 2_000);
    if (!r.ok || r.status !== 200) {
      counts.failed += 1;
      continue;
    }
    const answer = parseAppAnswer(r.body);
    if (answer !== undefined && answer.startedAt > killedAt) answeredByNew = true;
  }
  return answeredByNew && now.length === REPLICAS;
}

async function stableVictim(target: Target): Promise<RunningContainer> {
  let victim: RunningContainer | undefined;
  let seen = "nothing yet";
  await waitFor(
    async () => {
      const running = await runningContainers(target.labels);
      seen = `${running.length} running, ports ${running.map((c) => c.ports.get(APP_PORT)).join(", ")}`;
      if (running.length !== REPLICAS) return false;
      const states = await Promise.all(running.map((c) => containerState(c.id)));
      const oldest = states.reduce(
        (a, s, i) => (s.startedAt < (states[a]?.startedAt ?? 0) ? i : a),
        0,
      );
      victim = running[oldest];
      const startedAt = states[oldest]?.startedAt ?? Date.now();
      if (Date.now() - startedAt < target.stableMs) return false;
      // Every replica answers (its process listens), so the trial starts from a served state.
      for (const c of running) {
        const port = c.ports.get(APP_PORT);
        if (port !== undefined && !(await getOnce(port, 2_000)).ok) return false;
      }
      return true;
    },
    `${target.name}: ${REPLICAS} containers running, the oldest for ${target.stableMs} ms`,
    60_000,
    100,
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message} (last seen: ${seen})`);
  });
  return victim as RunningContainer;
}

async function trial(
  target: Target,
  takedown: Takedown,
  windowMs: number,
  pollMs: number,
): Promise<HealTrial> {
  const victim = await stableVictim(target);
  const before = new Set((await runningContainers(target.labels)).map((c) => c.id));
  const counts = { failed: 0, polls: 0 };
  const killedAt = Date.now();
  const t0 = performance.now();
  if (takedown === "docker-kill") await dockerKill(victim.id);
  else await crashContainer(victim.id);
  while (performance.now() - t0 < windowMs) {
    const roundStart = performance.now();
    if (await pollOnce(target, victim, before, killedAt, counts)) {
      return { ms: performance.now() - t0, ...counts };
    }
    const rest = pollMs - (performance.now() - roundStart);
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
  }
  await target.restore(victim);
  return { ...counts };
}

function batonYaml(image: string, port: number): string {
  return `project: bench-container-selfheal
apps:
  web:
    runtime: docker
    image: ${image}
    command: ${JSON.stringify(APP_COMMAND)}
    containerPort: ${APP_PORT}
    replicas: ${REPLICAS}
    port: ${port}
    env: { VERSION: "1" }
    health:
      readiness: { http: /healthz, interval: 1s }
    restart: { resetAfter: 1s }
`;
}

export async function containerSelfHealBench(
  opts: ContainerSelfHealOptions = {},
): Promise<ContainerSelfHealResult> {
  const trials = opts.trials ?? 3;
  const windowMs = opts.windowMs ?? 30_000;
  const pollMs = opts.pollMs ?? 5;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const loadBefore = loadavg()[0] ?? 0;
  await ensureDocker();
  const image = await containerAppImage();
  log(`image ${image}`);

  const work = mkdtempSync(join(tmpdir(), "baton-bench-container-selfheal-"));
  const project = new BatonProject(work);
  const run: SwarmRun = newSwarmRun("selfheal");
  const runLabel = `baton.bench.run=${run.id}`;
  let lastStatus: ControllerStatus | undefined;
  let swarmUsed = false;
  try {
    const [batonPort, ...runPorts] = (await freePorts(1 + REPLICAS)) as [number, ...number[]];
    writeFileSync(project.file, batonYaml(image, batonPort));
    lastStatus = await project.up(90);
    log(`baton: controller ${lastStatus.controller.pid}, proxy port ${batonPort}`);

    for (const [i, port] of runPorts.entries()) {
      await docker([
        "run",
        "--detach",
        "--restart=always",
        "--name",
        `${run.id}-run-${i + 1}`,
        ...run.labels.flatMap((l) => ["--label", l]),
        "--label",
        "baton.bench.contender=docker-run",
        "--publish",
        `127.0.0.1:${port}:${APP_PORT}`,
        "--env",
        "VERSION=1",
        image,
      ]);
    }
    log(`docker run --restart=always: ports ${runPorts.join(", ")}`);

    await ensureSwarm();
    swarmUsed = true;
    await createService(run, `${run.id}-svc`, image, [
      "--replicas",
      String(REPLICAS),
      "--endpoint-mode",
      "dnsrr",
      "--publish",
      `mode=host,target=${APP_PORT}`,
      "--env",
      "VERSION=1",
      "--container-label",
      "baton.bench.contender=swarm",
    ]);
    log(`swarm: service ${run.id}-svc (dnsrr, host-mode ports)`);

    const targets: Target[] = [
      {
        name: "baton",
        labels: [`baton.state=${project.stateDir}`, "baton.app=web"],
        stableMs: 2_000,
        ports: () => Array.from({ length: REPLICAS }, () => batonPort),
        restore: async () => {},
      },
      {
        name: "docker-run",
        labels: [runLabel, "baton.bench.contender=docker-run"],
        stableMs: 11_000,
        ports: (killed) => [killed.ports.get(APP_PORT) ?? 0],
        restore: async (killed) => {
          await docker(["start", killed.id]);
        },
      },
      {
        name: "swarm",
        labels: [runLabel, "baton.bench.contender=swarm"],
        stableMs: 2_000,
        ports: (_killed, now, before) =>
          now
            .filter((c) => !before.has(c.id))
            .map((c) => c.ports.get(APP_PORT))
            .filter((p): p is number => p !== undefined),
        restore: async () => {},
      },
    ];

    const runs = new Map<string, HealTrial[]>();
    for (let i = 0; i < trials; i++) {
      for (const takedown of TAKEDOWNS) {
        // Rotate the order so no contender always follows the same one.
        const order = targets.map((_, k) => targets[(k + i) % targets.length] as Target);
        for (const target of order) {
          const t = await trial(target, takedown, windowMs, pollMs);
          const key = `${target.name}/${takedown}`;
          runs.set(key, [...(runs.get(key) ?? []), t]);
          log(
            `trial ${i + 1}/${trials} ${takedown.padEnd(11)} ${target.name.padEnd(10)} ${
              t.ms === undefined
                ? `not healed within ${windowMs / 1000} s`
                : `${t.ms.toFixed(0)} ms`
            } (${t.failed} failed of ${t.polls} requests)`,
          );
        }
      }
    }

    const sides: HealSide[] = [];
    for (const takedown of TAKEDOWNS) {
      const batonList = runs.get(`baton/${takedown}`) ?? [];
      const batonMs = healedMs(batonList);
      for (const contender of CONTENDERS) {
        const list = runs.get(`${contender}/${takedown}`) ?? [];
        const ms = healedMs(list);
        sides.push({
          contender,
          takedown,
          ...(ms.length > 0 ? { ms: summarize(ms) } : {}),
          healed: ms.length,
          trials: list,
          failed: summarize(list.map((t) => t.failed)),
          ...(ms.length > 0 && batonMs.length > 0
            ? { ratioVsBaton: summarize(ms).median / summarize(batonMs).median }
            : {}),
        });
      }
    }
    const result: ContainerSelfHealResult = {
      name: "container-selfheal",
      at: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        node: process.version,
        docker: await dockerVersion(),
        load: [round(loadBefore), round(loadavg()[0] ?? 0)],
      },
      settings: { trials, windowMs, pollMs, replicas: REPLICAS, image },
      sides,
    };
    const paths = writeResults(
      "container-selfheal",
      renderContainerSelfHealMarkdown(result),
      result,
      opts.resultsDir,
    );
    log(`results: ${paths.markdown}`);
    return result;
  } finally {
    await project.down(lastStatus, log);
    // Baton's own containers (`baton down` stops them; exited ones stay), then this run's
    // `docker run` ones; the service's go with the service.
    await removeTestContainers(`baton.state=${project.stateDir}`).catch((e: unknown) =>
      log(`warning: ${(e as Error).message}`),
    );
    const runContainers = await docker([
      "ps",
      "-aq",
      "--filter",
      `label=${runLabel}`,
      "--filter",
      "label=baton.bench.contender=docker-run",
    ]).catch(() => "");
    for (const id of runContainers.split("\n").filter(Boolean)) {
      await docker(["rm", "-f", id]).catch((e: unknown) => log(`warning: ${(e as Error).message}`));
    }
    if (swarmUsed) {
      await removeSwarmRun(run, log);
      await releaseSwarm(log);
    }
    rmSync(work, { recursive: true, force: true });
  }
}

function healedMs(list: readonly HealTrial[]): number[] {
  return list.map((t) => t.ms).filter((ms): ms is number => ms !== undefined);
}

const LABELS: Record<Contender, string> = {
  baton: "Baton (runtime: docker, via its proxy)",
  "docker-run": "`docker run --restart=always`",
  swarm: "Swarm service (restart-condition any, delay 5 s)",
};

export function renderContainerSelfHealMarkdown(r: ContainerSelfHealResult): string {
  const rows = r.sides.map((s) => [
    s.takedown === "docker-kill" ? "`docker kill`" : "crash (kill -9 of State.Pid)",
    LABELS[s.contender],
    s.ms === undefined ? "-" : `${round(s.ms.min)} / ${round(s.ms.median)} / ${round(s.ms.max)}`,
    s.healed === s.trials.length
      ? `${s.healed} of ${s.trials.length}`
      : `${s.healed} of ${s.trials.length} (${s.trials.length - s.healed} not healed within ${r.settings.windowMs / 1000} s)`,
    `${round(s.failed.min)} / ${round(s.failed.median)} / ${round(s.failed.max)}`,
    s.contender === "baton"
      ? "1"
      : s.ratioVsBaton === undefined
        ? "never healed"
        : `${round(s.ratioVsBaton)}×`,
  ]);
  return `# Container self-healing benchmark

${r.at} — ${r.machine.cpus} CPUs, Node ${r.machine.node}, ${r.machine.docker}; load average ${r.machine.load[0]} before, ${r.machine.load[1]} after

The same image (${r.settings.image}), ${r.settings.replicas} replicas under each contender, all at once. A container taken down → healed: ${r.settings.replicas} containers running again AND a request answered by a process started after the kill, where users reach the app (Baton: its proxy port; \`docker run\`: the container's published port; Swarm: the new task's host-mode port, no routing mesh on this kernel). Polled every ${r.settings.pollMs} ms; ${r.settings.trials} trials of each, within ${r.settings.windowMs / 1000} s.

${markdownTable(["taken down by", "contender", "heal ms min / median / max", "healed", "failed requests min / median / max", "contender / Baton"], rows)}

\`docker kill\` is a manual stop to Docker: \`--restart=always\` leaves the container stopped (so "not healed"); Swarm replaces the task after its restart delay; Baton replaces the replica. A crash (SIGKILL of the container's main process from the host) is what restart policies are for. *Contender / Baton*: the contender's median heal time over Baton's; above 1, Baton heals faster. Failed requests: Baton's through its proxy (the other replica keeps serving), \`docker run\`'s on the killed container's port, Swarm's to new tasks' ports before they listen.
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { trials: { type: "string", default: "3" } } });
  containerSelfHealBench({ trials: Number(values.trials) }).then(
    (r) => process.stdout.write(renderContainerSelfHealMarkdown(r)),
    (err: unknown) => {
      process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
