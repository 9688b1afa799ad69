/**
 * From `git push` to the change served in dev, minus the time of the steps themselves:
 * Baton's own overhead in delivering a commit (goal: under 2 s).
 *
 * A bare repository (the team's remote) and, beside it, a working copy holding baton.yaml
 * (one container app built from ./api, its pipeline reading the bare repository: a test step,
 * an image build, a deploy to dev). Baton runs in that working copy's folder with `--env dev`
 * and its post-receive hook installed in the bare repository. Each trial, a developer's clone
 * changes the app's greeting, commits and pushes; measured from the start of `git push` to
 * the first answer of the proxy with the new greeting. The run's step durations come from
 * `baton runs --json` (test, build + push, and the deploy until the change is served: the
 * rollout then goes on draining the old replica); overhead = total − their sum: the hook, the
 * queue, the checkout, the gaps between steps.
 *
 *   node --import tsx bench/delivery.ts [--trials 5]
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  docker,
  ensureDocker,
  nodeBaseImage,
  removeTestContainers,
} from "../test/helpers/docker.js";
import { ensureRegistry, REGISTRY } from "../test/helpers/registry.js";
import { BatonProject } from "./lib/baton-cli.js";
import { getOnce } from "./lib/http-get.js";
import { freePort } from "./lib/net.js";
import { round, type Summary, spread, summarize } from "./lib/stats.js";
import { markdownTable, writeResults } from "./lib/table.js";
import { waitFor } from "./lib/wait.js";

export interface DeliveryOptions {
  readonly trials?: number;
  readonly resultsDir?: string;
  readonly log?: (line: string) => void;
}

export interface DeliveryResult {
  readonly name: "delivery";
  readonly at: string;
  readonly machine: {
    readonly cpus: number;
    readonly node: string;
    readonly load: readonly [number, number];
  };
  readonly settings: { readonly trials: number };
  /** From the start of `git push` to the proxy serving the change. */
  readonly total: Summary;
  /** The steps' own durations, summed. */
  readonly steps: Summary;
  /** total − steps. */
  readonly overhead: Summary;
  readonly goal: { readonly maxMs: number; readonly met: boolean };
}

const GOAL_MS = 2_000;
const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "bench",
  GIT_AUTHOR_EMAIL: "bench@example.invalid",
  GIT_COMMITTER_NAME: "bench",
  GIT_COMMITTER_EMAIL: "bench@example.invalid",
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, env: GIT_ENV, encoding: "utf8", stdio: "pipe" }).trim();
}

const SERVER = `const http = require("node:http");
const fs = require("node:fs");
const greeting = fs.readFileSync(__dirname + "/greeting.txt", "utf8").trim();
http.createServer((req, res) => res.end(req.url === "/healthz" ? "ok" : greeting))
  .listen(Number(process.env.PORT ?? 8080), "0.0.0.0");
`;

interface RunsJson {
  runs: {
    run: { commit: string; state: string };
    steps: { name: string; startedAt: number | null; finishedAt: number | null }[];
  }[];
}

export async function deliveryBench(options: DeliveryOptions = {}): Promise<DeliveryResult> {
  const trials = options.trials ?? 5;
  const log = options.log ?? (() => {});
  const loadBefore = loadavg()[0] ?? 0;
  await ensureDocker();
  await ensureRegistry();
  const base = await nodeBaseImage();
  const run = randomBytes(4).toString("hex");
  const root = mkdtempSync(join(tmpdir(), "baton-bench-delivery-"));
  const bare = join(root, "shop.git");
  const server = join(root, "server");
  const dev = join(root, "dev");
  const port = await freePort();
  const totals: number[] = [];
  const stepTimes: number[] = [];
  const baton = new BatonProject(server);
  try {
    git(root, "init", "-q", "--bare", "-b", "main", bare);
    git(root, "clone", "-q", bare, dev);
    writeFileSync(join(dev, ".gitignore"), ".baton/\n");
    execFileSync("mkdir", ["-p", join(dev, "api")]);
    writeFileSync(join(dev, "api", "Dockerfile"), `FROM ${base}\nCOPY . /app\n`);
    writeFileSync(join(dev, "api", "server.js"), SERVER);
    writeFileSync(join(dev, "api", "greeting.txt"), "greeting 0\n");
    writeFileSync(
      join(dev, "baton.yaml"),
      `project: delivery-${run}
registry: ${REGISTRY}
environments: { dev: {} }
apps:
  api:
    build: { context: ./api, labels: { baton.bench.run: "${run}" } }
    command: ["${process.execPath}", "/app/server.js"]
    containerPort: 8080
    port: ${port}
    health:
      readiness: { http: /healthz, interval: 100ms }
pipelines:
  api:
    source: { repo: ${bare} }
    triggers: { poll: false }
    steps:
      - { name: test, run: grep -q greeting api/greeting.txt }
      - { name: image, build: api }
      - { name: dev, deploy: { app: api, env: dev } }
`,
    );
    git(dev, "add", "-A");
    git(dev, "commit", "-qm", "greeting 0");
    git(dev, "push", "-q", "origin", "main");
    git(root, "clone", "-q", bare, server);
    await baton.cli(["up", "--detach", "--env", "dev"], 180_000);
    await baton.cli(["wait", "--timeout", "120s"], 150_000);
    await baton.cli(["hooks", "install"]);

    for (let i = 1; i <= trials; i++) {
      const greeting = `greeting ${i}`;
      writeFileSync(join(dev, "api", "greeting.txt"), `${greeting}\n`);
      git(dev, "commit", "-qam", greeting);
      const commit = git(dev, "rev-parse", "HEAD");
      const t0 = performance.now();
      git(dev, "push", "-q", "origin", "main");
      await waitFor(
        async () => {
          const r = await getOnce(port, 2_000);
          return r.ok && r.body === greeting;
        },
        `the proxy to serve "${greeting}"`,
        180_000,
        10,
      );
      const total = performance.now() - t0;
      const servedAt = Date.now();
      await waitFor(
        async () =>
          (JSON.parse(await baton.cli(["runs", "api", "--json", "-n", "5"])) as RunsJson).runs.some(
            (r) => r.run.commit === commit && r.run.state === "passed",
          ),
        "the run to be recorded as passed",
        30_000,
        50,
      );
      const final = (
        JSON.parse(await baton.cli(["runs", "api", "--json", "-n", "5"])) as RunsJson
      ).runs.find((r) => r.run.commit === commit);
      if (final === undefined) throw new Error(`no run of ${commit} was recorded`);
      // The deploy step is the step's time until the change is served (the rollout goes on
      // draining the old replica after that); the others count whole.
      const steps = final.steps.reduce((sum, step) => {
        const started = step.startedAt ?? servedAt;
        const ended = step.name === "dev" ? servedAt : (step.finishedAt ?? servedAt);
        return sum + Math.max(0, ended - started);
      }, 0);
      totals.push(total);
      stepTimes.push(steps);
      log(
        `delivery: trial ${i}: push → served ${Math.round(total)} ms, steps ${steps} ms, overhead ${Math.round(total - steps)} ms`,
      );
    }
  } finally {
    await baton.cli(["down"], 120_000).catch(() => undefined);
    await removeTestContainers(`baton.state=${baton.stateDir}`).catch(() => undefined);
    const images = (
      await docker(["images", "-q", "--filter", `label=baton.bench.run=${run}`]).catch(() => "")
    )
      .split("\n")
      .filter(Boolean);
    for (const id of new Set(images)) await docker(["rmi", "-f", id]).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
  const overhead = summarize(totals.map((t, i) => t - (stepTimes[i] ?? 0)));
  const result: DeliveryResult = {
    name: "delivery",
    at: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      node: process.version,
      load: [round(loadBefore), round(loadavg()[0] ?? 0)],
    },
    settings: { trials },
    total: summarize(totals),
    steps: summarize(stepTimes),
    overhead,
    goal: { maxMs: GOAL_MS, met: overhead.median < GOAL_MS },
  };
  writeResults("delivery", renderDeliveryMarkdown(result), result, options.resultsDir);
  return result;
}

export function renderDeliveryMarkdown(r: DeliveryResult): string {
  return `# Delivery benchmark: from \`git push\` to the change served in dev

${r.at} — ${r.machine.cpus} CPUs, Node ${r.machine.node}; load average ${r.machine.load[0]} before, ${r.machine.load[1]} after

A bare repository with Baton's post-receive hook; a developer's clone changes the app's greeting, commits and pushes. The pipeline: a test step, an image build (pushed to the local registry), a deploy to dev (a rollout behind Baton's proxy). Measured from the start of \`git push\` to the proxy's first answer with the new greeting; the steps' own durations from the run's record; overhead = total − steps. ${r.settings.trials} trials; median (min–max), ms.

${markdownTable(
  ["what", "ms"],
  [
    ["push → served", spread(r.total)],
    ["the steps (test, build + push, deploy until served)", spread(r.steps)],
    [
      `Baton's overhead (goal < ${r.goal.maxMs} ms)`,
      `${spread(r.overhead)} — ${r.goal.met ? "met" : "NOT met"}`,
    ],
  ],
)}
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { trials: { type: "string", default: "5" } } });
  deliveryBench({
    trials: Number(values.trials),
    log: (line) => process.stderr.write(`${line}\n`),
  }).then(
    (r) => process.stdout.write(`${renderDeliveryMarkdown(r)}\n`),
    (error: unknown) => {
      process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
