/**
 * Build + push + deploy of a small app: Baton (`baton deploy APP --wait`, which builds the
 * current code first; and the two-step `baton build` then `baton deploy --release --wait`)
 * against the same steps by hand with the docker CLI. Goal: Baton within 10% of the hand-run
 * commands.
 *
 * Both sides build the same Dockerfile (FROM the local node base image, one build label,
 * COPY of a one-file server) from a context whose server.js changes every trial, so every
 * trial builds a new layer, pushes it to the same local registry (docker-registry on
 * 127.0.0.1:5000) and replaces the running container:
 *   - Baton: one replica behind its proxy, already running the previous release; `baton
 *     deploy api --wait`: context tar, build, push, record, then a rollout (new container
 *     pinned by digest, ready, old one drained and stopped). Timed until it returns; its
 *     deploy part is the rollout's own duration. The two-step side does the same with two
 *     CLI calls, `baton build api` and `baton deploy api --release V --wait`.
 *   - By hand: `docker build -t REPO:TAG` (legacy builder, as the CLI uses without buildx),
 *     `docker push`, `docker run -d` of REPO@DIGEST on a new port, GET until it answers the
 *     new content, `docker stop` + `docker rm` of the previous container. Same order as a
 *     rollout (new ready before old stops), without a proxy.
 * Sides alternate within each trial. Median (min–max) of the trials, and Baton / hand.
 *
 *   node --import tsx bench/images.ts [--trials 5]
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ensureDocker, nodeBaseImage } from "../test/helpers/docker.js";
import { ensureRegistry, REGISTRY } from "../test/helpers/registry.js";
import { BatonProject } from "./lib/baton-cli.js";
import { getOnce } from "./lib/http-get.js";
import { freePorts } from "./lib/net.js";
import { ratio, round, type Summary, spread, summarize } from "./lib/stats.js";
import { markdownTable, writeResults } from "./lib/table.js";
import { waitFor } from "./lib/wait.js";

export interface ImagesOptions {
  readonly trials?: number;
  readonly resultsDir?: string;
  readonly log?: (line: string) => void;
}

export type Side = "baton" | "baton-two-step" | "hand";

export interface ImagesTrial {
  /** Build and push: `baton build` (the part before the rollout); by hand `docker build` + `docker push`. */
  readonly buildMs: number;
  /** Deploy: `baton deploy --wait`; by hand `docker run` until it answers + stop/rm the old. */
  readonly deployMs: number;
  readonly ms: number;
}

export interface ImagesSide {
  readonly name: Side;
  readonly ms: Summary;
  readonly buildMs: Summary;
  readonly deployMs: Summary;
  readonly trials: readonly ImagesTrial[];
}

export interface ImagesResult {
  readonly name: "images";
  readonly at: string;
  readonly machine: {
    readonly cpus: number;
    readonly node: string;
    readonly docker: string;
    readonly load: readonly [number, number];
  };
  readonly settings: { readonly trials: number };
  readonly sides: readonly ImagesSide[];
  /** Baton (`deploy --wait`, one command) median / hand median. */
  readonly ratio: number;
  /** The two-step flow (`build`, then `deploy --release --wait`) median / hand median. */
  readonly twoStepRatio: number;
  readonly goal: { readonly text: string; readonly met: boolean };
}

const GOAL = 1.1;

function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024, timeout: 300_000 },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`${command} ${args.join(" ")} failed: ${stderr || error.message}`));
        else resolve(stdout);
      },
    );
  });
}

const docker = (...args: string[]) => run("docker", args, { DOCKER_BUILDKIT: "0" });

function serverSource(mark: string): string {
  return `const http = require("node:http");
const mark = ${JSON.stringify(mark)};
const server = http.createServer((req, res) => res.end(mark));
server.listen(Number(process.env.PORT || 8080), process.env.HOST || "127.0.0.1");
process.on("SIGTERM", () => server.close(() => process.exit(0)));
`;
}

async function answers(port: number, mark: string): Promise<boolean> {
  const got = await getOnce(port, 2_000);
  return got.ok && got.body === mark;
}

export async function imagesBench(options: ImagesOptions = {}): Promise<ImagesResult> {
  const trials = options.trials ?? 5;
  const log = options.log ?? (() => {});
  await ensureDocker();
  await ensureRegistry();
  const base = await nodeBaseImage();
  const loadBefore = loadavg()[0] ?? 0;
  const id = randomBytes(4).toString("hex");
  const label = `baton.bench.images=${id}`;
  const root = mkdtempSync(join(tmpdir(), "baton-bench-images-"));
  const dockerfile = `FROM ${base}\nARG GREETING=bench\nENV GREETING=$GREETING\nCOPY . /app\n`;
  const [proxyPort = 0] = await freePorts(1);

  // Baton's project: one replica behind the proxy.
  const batonDir = join(root, "baton");
  mkdirSync(join(batonDir, "api"), { recursive: true });
  writeFileSync(join(batonDir, "api", "Dockerfile"), dockerfile);
  writeFileSync(
    join(batonDir, "baton.yaml"),
    `project: bench-images-${id}
registry: ${REGISTRY}
apps:
  api:
    build: { context: ./api, labels: { baton.bench.images: "${id}" } }
    command: ["${process.execPath}", "/app/server.js"]
    env: { HOST: 0.0.0.0 }
    containerPort: 8080
    port: ${proxyPort}
    health:
      readiness: { http: /, interval: 100ms }
`,
  );
  const baton = new BatonProject(batonDir);

  // The hand-run side: the same Dockerfile and label, its own repository.
  const handDir = join(root, "hand");
  mkdirSync(handDir);
  writeFileSync(join(handDir, "Dockerfile"), dockerfile);
  const handRepo = `${REGISTRY}/bench-images-${id}/hand`;
  let handContainer: string | undefined;

  const batonOnce = async (mark: string): Promise<ImagesTrial> => {
    writeFileSync(join(batonDir, "api", "server.js"), serverSource(mark));
    const t0 = performance.now();
    const out = JSON.parse(
      await baton.cli(["deploy", "api", "--wait", "--timeout", "120s", "--json"], 300_000),
    ) as { rollout: { startedAt: number; finishedAt: number | null } | null };
    const ms = performance.now() - t0;
    if (!(await answers(proxyPort, mark)))
      throw new Error(`baton: the proxy does not serve ${mark}`);
    const rollout = out.rollout;
    const deployMs =
      rollout?.finishedAt == null ? Number.NaN : rollout.finishedAt - rollout.startedAt;
    return { buildMs: ms - deployMs, deployMs, ms };
  };

  const twoStepOnce = async (mark: string): Promise<ImagesTrial> => {
    writeFileSync(join(batonDir, "api", "server.js"), serverSource(mark));
    const t0 = performance.now();
    const built = JSON.parse(await baton.cli(["build", "api", "--json"], 300_000)) as {
      releases: { version: string }[];
    };
    const t1 = performance.now();
    const version = built.releases[0]?.version ?? "";
    await baton.cli(
      ["deploy", "api", "--release", version, "--wait", "--timeout", "120s"],
      180_000,
    );
    const t2 = performance.now();
    if (!(await answers(proxyPort, mark)))
      throw new Error(`baton: the proxy does not serve ${mark}`);
    return { buildMs: t1 - t0, deployMs: t2 - t1, ms: t2 - t0 };
  };

  const handOnce = async (mark: string, tag: string): Promise<ImagesTrial> => {
    writeFileSync(join(handDir, "server.js"), serverSource(mark));
    const [port = 0] = await freePorts(1);
    const t0 = performance.now();
    await docker("build", "-q", "--label", label, "-t", `${handRepo}:${tag}`, handDir);
    const pushed = await docker("push", `${handRepo}:${tag}`);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed)?.[1];
    if (digest === undefined) throw new Error(`docker push printed no digest:\n${pushed}`);
    const t1 = performance.now();
    const started = (
      await docker(
        "run",
        "-d",
        "--label",
        label,
        "-e",
        "HOST=0.0.0.0",
        "-e",
        "PORT=8080",
        "-p",
        `127.0.0.1:${port}:8080`,
        `${handRepo}@${digest}`,
        process.execPath,
        "/app/server.js",
      )
    ).trim();
    await waitFor(() => answers(port, mark), `the hand-run container answers ${mark}`, 60_000, 20);
    if (handContainer !== undefined) {
      await docker("stop", handContainer);
      await docker("rm", handContainer);
    }
    handContainer = started;
    const t2 = performance.now();
    return { buildMs: t1 - t0, deployMs: t2 - t1, ms: t2 - t0 };
  };

  const results: Record<Side, ImagesTrial[]> = { baton: [], "baton-two-step": [], hand: [] };
  const once = (side: Side, mark: string, i: number): Promise<ImagesTrial> =>
    side === "baton"
      ? batonOnce(mark)
      : side === "baton-two-step"
        ? twoStepOnce(mark)
        : handOnce(mark, `t${i}`);
  try {
    // Warm-up, not measured: the first release of each side, and the base layers pushed.
    log("images: first release of each side (not measured)");
    writeFileSync(join(batonDir, "api", "server.js"), serverSource("warm-up"));
    await baton.cli(["up", "--detach"], 300_000);
    await baton.cli(["wait", "--timeout", "60s"], 90_000);
    await handOnce("warm-up", "warm-up");
    for (let i = 1; i <= trials; i++) {
      // Each side first, second and last in turn.
      const sides: Side[] = ["baton", "hand", "baton-two-step"];
      const order = sides.map((_, k) => sides[(k + i) % sides.length] as Side);
      for (const side of order) {
        const mark = `${side}-${id}-${i}`;
        const trial = await once(side, mark, i);
        results[side].push(trial);
        log(
          `images: trial ${i} ${side}: ${Math.round(trial.ms)} ms (build+push ${Math.round(trial.buildMs)}, deploy ${Math.round(trial.deployMs)})`,
        );
      }
    }
  } finally {
    await baton.cli(["down"]).catch(() => undefined);
    const containers = (await docker("ps", "-aq", "--filter", `label=${label}`))
      .split("\n")
      .filter(Boolean);
    for (const c of containers) await docker("rm", "-f", c).catch(() => undefined);
    const images = (await docker("images", "-q", "--filter", `label=${label}`))
      .split("\n")
      .filter(Boolean);
    for (const image of new Set(images)) await docker("rmi", "-f", image).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }

  const side = (name: Side): ImagesSide => ({
    name,
    ms: summarize(results[name].map((t) => t.ms)),
    buildMs: summarize(results[name].map((t) => t.buildMs)),
    deployMs: summarize(results[name].map((t) => t.deployMs)),
    trials: results[name],
  });
  const sides = [side("baton"), side("baton-two-step"), side("hand")];
  const r = ratio(sides[0]!.ms, sides[2]!.ms);
  const result: ImagesResult = {
    name: "images",
    at: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      node: process.version,
      docker: (await run("docker", ["version", "--format", "{{.Server.Version}}"])).trim(),
      load: [round(loadBefore), round(loadavg()[0] ?? 0)],
    },
    settings: { trials },
    sides,
    ratio: r,
    twoStepRatio: ratio(sides[1]!.ms, sides[2]!.ms),
    goal: { text: `Baton / hand ≤ ${GOAL}`, met: r <= GOAL },
  };
  writeResults("images", renderImagesMarkdown(result), result, options.resultsDir);
  return result;
}

const SIDE_TITLES: Record<Side, string> = {
  baton: "Baton: `deploy api --wait` (builds first)",
  "baton-two-step": "Baton: `build api`, then `deploy --release V --wait`",
  hand: "by hand (docker build, push, run, stop)",
};

export function renderImagesMarkdown(r: ImagesResult): string {
  const rows = r.sides.map((s) => [
    SIDE_TITLES[s.name],
    spread(s.ms),
    `${round(s.ms.min)} / ${round(s.ms.median)} / ${round(s.ms.max)}`,
    spread(s.buildMs),
    spread(s.deployMs),
  ]);
  const trialRows = r.sides.flatMap((s) =>
    s.trials.map((t, i) => [
      s.name,
      i + 1,
      t.ms.toFixed(0),
      t.buildMs.toFixed(0),
      t.deployMs.toFixed(0),
    ]),
  );
  return `# Build + push + deploy benchmark

${r.at} — ${r.machine.cpus} CPUs, Node ${r.machine.node}, Docker Engine ${r.machine.docker}; load average ${r.machine.load[0]} before, ${r.machine.load[1]} after

A one-file Node server built FROM a local base image (one build label, COPY of the context), changed every trial, pushed to a local \`docker-registry\` on 127.0.0.1:5000 and put in place of the running container. Baton: \`baton deploy api --wait\`, which builds, pushes and records the current code, then rolls one replica behind its proxy out to it, pinned by digest (its deploy column is the rollout's own duration, the rest is build + push + the CLI); and the same in two CLI calls, \`baton build api\` then \`baton deploy api --release V --wait\`. By hand: \`docker build\`, \`docker push\`, \`docker run -d\` of the pushed digest until it answers, then \`docker stop\` + \`docker rm\` of the previous container. ${r.settings.trials} trials, sides alternating. Median (min–max), ms.

${markdownTable(["side", "total ms", "min / median / max ms", "build + push ms", "deploy ms"], rows)}

**Baton / by hand: ${round(r.ratio)}×** (goal: ${r.goal.text}) — ${r.goal.met ? "met" : "NOT met"}. Two-step flow / by hand: ${round(r.twoStepRatio)}×.

${markdownTable(["side", "trial", "total ms", "build + push ms", "deploy ms"], trialRows)}
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { trials: { type: "string", default: "5" } } });
  imagesBench({
    trials: Number(values.trials),
    log: (line) => process.stderr.write(`${line}\n`),
  }).then(
    (r) => process.stdout.write(`${renderImagesMarkdown(r)}\n`),
    (error: unknown) => {
      process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
