import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { rotateIfLarge } from "../../src/runtime/process/log-files.js";
import { sampleLogSize } from "../../src/runtime/process/log-time-index.js";
import { CLI, freePort, Project, type StatusJson, TEST_APP } from "../helpers/cli.js";
import { git } from "../helpers/git.js";
import { eventually } from "../helpers/wait.js";

let project: Project | undefined;
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
});

const web = (s: StatusJson) => s.apps.find((a) => a.name === "web")!;

describe("logs", () => {
  it("show each replica's stdout and stderr, and follow replacements", async () => {
    const port = await freePort();
    project = new Project(`apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    replicas: 2
    port: ${port}
`);
    await project.ok("up", "--detach");
    await project.ok("wait");
    const [a, b] = web(await project.status()).replicas;
    const logs = await eventually(
      "both replicas have logged",
      async () => (await project!.ok("logs", "web")).stdout,
      (out) => out.includes(`${a!.id} stderr works`) && out.includes(`${b!.id} stderr works`),
    );
    expect(logs).toContain(`${a!.id} | ${a!.id} listening on ${a!.port}`);

    const follower = spawn(process.execPath, [CLI, "logs", "web", "-f"], {
      cwd: project.dir,
      env: { ...process.env, NO_COLOR: "1" },
    });
    let followed = "";
    follower.stdout.on("data", (chunk: Buffer) => {
      followed += chunk.toString();
    });
    try {
      // Only once the follower is up does the replacement come: it must be followed, not read.
      await eventually(
        "the follower prints the running replicas",
        () => followed,
        (out) => out.includes(`${b!.id} stderr works`),
      );
      process.kill(a!.pid!, "SIGKILL");
      const replacement = await eventually(
        "a replacement runs",
        async () =>
          web(await project!.status()).replicas.find((r) => r.id !== a!.id && r.id !== b!.id),
        (r) => r?.ready === true,
      );
      await eventually(
        "the follower prints the replacement's output",
        () => followed,
        (out) => out.includes(`${replacement!.id} listening on`),
      );
    } finally {
      follower.kill("SIGINT");
    }
  });

  it("follow an app across a rollout without gaps, filter JSON fields, and show runs and the controller", async () => {
    const port = await freePort();
    const definition = (version: string) => `apps:
  web:
    command: ["node", "counter.cjs"]
    replicas: 1
    port: ${port}
    env: { VERSION: "${version}" }
    stopGrace: 10s
pipelines:
  check:
    source: { repo: check.git, branch: main }
    triggers: { poll: false }
    steps:
      - name: test
        run: sh test.sh
`;
    project = new Project(definition("1"), { "counter.cjs": COUNTER_APP });
    makeRepo(project.dir);
    await project.ok("up", "--detach");
    await project.ok("wait");
    const [old] = web(await project.status()).replicas;

    const follower = followJson(project.dir, ["logs", "web", "-f", "--json"]);
    try {
      await eventually(
        "the follower prints the old replica's counter",
        () => follower.records(),
        (rs) => rs.some((r) => r.replica === old!.id && (r.fields?.n as number) >= 5),
      );
      project.write("baton.yaml", definition("2"));
      await project.ok("apply", "--wait", "--timeout", "60s");
      const [fresh] = web(await project.status()).replicas;
      expect(fresh!.id).not.toBe(old!.id);
      const seen = await eventually(
        "the follower prints the old replica's last line and the new one's counter",
        () => follower.records(),
        (rs) =>
          rs.some((r) => r.replica === old!.id && r.fields?.msg === "stopping") &&
          rs.some((r) => r.replica === fresh!.id && (r.fields?.n as number) >= 20),
      );
      for (const id of [old!.id, fresh!.id]) {
        const counted = seen.filter((r) => r.replica === id && r.fields?.msg === "tick");
        const numbers = counted.map((r) => r.fields?.n as number);
        // Every value from the replica's first line on, in order, none missing.
        expect(numbers).toEqual(numbers.map((_, i) => i));
        const times = counted.map((r) => Date.parse(r.at));
        expect(times).toEqual([...times].sort((a, b) => a - b));
      }
      const stopping = seen.find((r) => r.replica === old!.id && r.fields?.msg === "stopping");
      const oldTicks = seen.filter((r) => r.replica === old!.id && r.fields?.msg === "tick");
      // Up to its stop: the last tick before the stop line is the one it says it stopped at.
      expect(oldTicks.at(-1)?.fields?.n).toBe(stopping?.fields?.n);
      // Interleaved by time: the output never steps back.
      const all = seen.map((r) => Date.parse(r.at));
      expect(all).toEqual([...all].sort((a, b) => a - b));
    } finally {
      await follower.stop();
    }

    const errors = jsonLines(
      (await project.ok("logs", "web", "--json", "--where", "level=error")).stdout,
    );
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((r) => r.fields?.level === "error")).toBe(true);
    const notInfo = jsonLines(
      (await project.ok("logs", "web", "--json", "--where", "level!=info", "--where", "msg~^tick$"))
        .stdout,
    );
    expect(notInfo.length).toBeGreaterThanOrEqual(
      errors.filter((r) => r.fields?.msg === "tick").length,
    );
    expect(notInfo.every((r) => r.fields?.level === "error" && r.fields.msg === "tick")).toBe(true);
    const grep = (await project.ok("logs", "web", "--grep", "stopping")).stdout.trim().split("\n");
    expect(grep.length).toBeGreaterThan(0);
    expect(grep.every((l) => /^\S+\s+\| \{"level":"info","msg":"stopping"/.test(l))).toBe(true);
    const bad = await project.run("logs", "web", "--where", "level");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("FIELD=VALUE");

    // A run's steps, by number or as run/N.
    await project.ok("run", "check");
    await eventually(
      "the run ends",
      async () =>
        (JSON.parse((await project!.ok("runs", "--json")).stdout) as { runs: RunJson[] }).runs,
      (runs) => runs[0]?.run.state === "passed",
      60_000,
    );
    const run = jsonLines((await project.ok("logs", "run/1", "--json")).stdout);
    expect(run.some((r) => r.run === 1 && r.step === "test" && r.line === "checked 42")).toBe(true);
    expect((await project.ok("logs", "1")).stdout).toMatch(/^run\/1 test \| checked 42$/m);

    // No target: every app and the controller's own log, by time; the API token never shows.
    const token = readFileSync(join(project.stateDir, "api-token"), "utf8").trim();
    appendFileSync(
      join(project.stateDir, "logs", "controller.log"),
      `warning: token ${token} leaked\n`,
    );
    const everything = await project.ok("logs", "--json");
    const records = jsonLines(everything.stdout);
    expect(records.some((r) => r.source === "controller" && /replica/.test(r.line))).toBe(true);
    expect(records.some((r) => r.replica === fresh_(records, old!.id))).toBe(true);
    expect(everything.stdout).not.toContain(token);
    expect(everything.stdout).toContain("warning: token *** leaked");
    const times = records.map((r) => Date.parse(r.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect((await project.ok("logs")).stdout).toMatch(/^controller\s+\| /m);
  }, 120_000);
});

describe("logs of large replicas", () => {
  it("print every line, in each replica's order, in bounded memory; so do --tail, --since and a reader that goes away", async () => {
    project = new Project("apps: {}\n");
    const replicas = ["big-a1", "big-b2", "big-c3"];
    const written = writeBigLogs(join(project.stateDir, "logs", "big"), replicas, BIG_CHUNKS * MiB);

    const all = lineChecker(replicas, [0, 0, 0]);
    const whole = await watchLogs(project.dir, ["logs", "big"], all);
    console.log(
      `baton logs of 3 × 40 MB: ${whole.seconds.toFixed(1)} s, peak RSS ${whole.peakKiB >> 10} MiB`,
    );
    expect(whole.stderr).toBe("");
    expect(whole.code).toBe(0);
    expect(whole.partial).toBe("");
    expect(all.errors()).toEqual([]);
    expect(all.counts()).toEqual(written);
    expect(whole.peakKiB).toBeGreaterThan(0);
    expect(whole.peakKiB).toBeLessThan(200 * 1024);

    // The last 3 of each, read from the ends of the files.
    const tail = lineChecker(
      replicas,
      written.map((n) => n - 3),
    );
    const tailed = await watchLogs(project.dir, ["logs", "big", "--tail", "3"], tail);
    expect(tailed.stderr).toBe("");
    expect(tail.errors()).toEqual([]);
    expect(tail.counts()).toEqual(written);

    // Since the 37th second of writing: the index says where the last 4 MiB of each begin.
    const sinceChunk = BIG_CHUNKS - 4;
    const firstSince = written.map((n) => (n / BIG_CHUNKS) * sinceChunk);
    const since = lineChecker(replicas, firstSince);
    const sinceAt = new Date(writtenFrom + (sinceChunk - 1) * 1000 + 500).toISOString();
    const recent = await watchLogs(project.dir, ["logs", "big", "--since", sinceAt], since);
    expect(recent.stderr).toBe("");
    expect(since.errors()).toEqual([]);
    expect(since.counts()).toEqual(written);

    // `baton logs | head`: the reader goes away after its first lines; baton ends quietly.
    const head = lineChecker(replicas, [0, 0, 0]);
    const headed = await watchLogs(project.dir, ["logs", "big"], head, { closeAfterFirst: true });
    expect(headed.stderr).toBe("");
    expect(headed.code).toBe(0);
  }, 90_000);
});

describe("logs through a running controller", () => {
  it("print what the CLI prints alone, byte for byte, streamed in bounded memory on both sides", async () => {
    project = new Project("apps: {}\n");
    const replicas = ["big-a1", "big-b2", "big-c3"];
    const written = writeBigLogs(join(project.stateDir, "logs", "big"), replicas, BIG_CHUNKS * MiB);
    const queries = [
      ["logs", "big", "--tail", "5"],
      ["logs", "big", "--tail", "2", "--json"],
      ["logs", "big", "--since", new Date(writtenFrom + 38_500).toISOString(), "--grep", "00[05] "],
      ["logs", "big", "--where", "level=error"],
      ["logs", "nothing-of-that-name"],
      ["logs", "big", "--tail", "many"],
    ];
    const alone = await Promise.all(queries.map((args) => project!.run(...args)));
    expect(alone[0]?.stdout.split("\n")).toHaveLength(3 * 5 + 1);
    expect(alone[4]?.stderr).toMatch(/^error\[logs\.unknown_target\] /);
    expect(alone[5]?.stderr).toMatch(/^error\[logs\.invalid_tail\] /);

    await project.ok("up", "--detach");
    const { controller } = await project.status();
    const controllerPeakBefore = residentPeakKiB(controller.pid) ?? 0;
    for (const [i, args] of queries.entries()) {
      expect(await project.run(...args), args.join(" ")).toEqual(alone[i]);
    }
    // Through the API as a script reads it: NDJSON, and a mistake as the usual JSON error.
    const token = readFileSync(join(project.stateDir, "api-token"), "utf8").trim();
    const headers = { authorization: `Bearer ${token}` };
    const tailed = await fetch(`${controller.api}/api/v1/logs?target=big&tail=2`, { headers });
    expect(tailed.headers.get("content-type")).toBe("application/x-ndjson");
    expect(await tailed.text()).toBe(alone[1]?.stdout);
    const unknown = await fetch(`${controller.api}/api/v1/logs?target=nothing-of-that-name`, {
      headers,
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: "logs.unknown_target" } });

    const all = lineChecker(replicas, [0, 0, 0]);
    const whole = await watchLogs(project.dir, ["logs", "big"], all);
    // The controller read 120 MB for it without holding it: the same bound as the CLI's.
    const controllerPeak = residentPeakKiB(controller.pid) ?? 0;
    console.log(
      `baton logs of 3 × 40 MB through the API: ${whole.seconds.toFixed(1)} s, peak RSS ${whole.peakKiB >> 10} MiB; the controller's peak ${controllerPeakBefore >> 10} → ${controllerPeak >> 10} MiB`,
    );
    expect(whole.stderr).toBe("");
    expect(whole.code).toBe(0);
    expect(all.errors()).toEqual([]);
    expect(all.counts()).toEqual(written);
    expect(whole.peakKiB).toBeLessThan(200 * 1024);
    expect(controllerPeak).toBeLessThan(200 * 1024);
  }, 120_000);
});

/** Runs `baton ARGS`, checking its lines as they come and sampling its peak resident size. */
async function watchLogs(
  cwd: string,
  args: readonly string[],
  check: ReturnType<typeof lineChecker>,
  options: { closeAfterFirst?: boolean } = {},
): Promise<{
  code: number | null;
  stderr: string;
  partial: string;
  peakKiB: number;
  seconds: number;
}> {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1", BATON_STATE: "" },
  });
  let partial = "";
  child.stdout.on("data", (chunk: Buffer) => {
    if (options.closeAfterFirst) {
      child.stdout.destroy();
      return;
    }
    const text = partial + chunk.toString("latin1");
    const cut = text.lastIndexOf("\n");
    partial = text.slice(cut + 1);
    check.lines(text.slice(0, cut));
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let peakKiB = 0;
  // VmHWM is the process's own peak resident size: the last sample before it exits is it.
  const sampler = setInterval(() => {
    peakKiB = Math.max(peakKiB, residentPeakKiB(child.pid) ?? 0);
  }, 20);
  const code = await new Promise<number | null>((done) => child.once("close", done));
  clearInterval(sampler);
  return { code, stderr, partial, peakKiB, seconds: (Date.now() - started) / 1000 };
}

const MiB = 1024 * 1024;
const BIG_CHUNKS = 40;
/** When the big logs' first chunk was written (a day ago): chunk k is sampled k seconds later. */
const writtenFrom = Date.now() - 24 * 3600 * 1000;

/**
 * Replica logs as the process runtime leaves them: numbered lines appended in 1 MiB writes,
 * the size index sampled after each (a second apart, the replicas interleaved), and the first
 * replica rotated half-way. Returns how many lines each replica wrote.
 */
function writeBigLogs(dir: string, replicas: readonly string[], bytesEach: number): number[] {
  mkdirSync(dir, { recursive: true });
  const padding = "x".repeat(80);
  const counts = replicas.map(() => 0);
  const sizes: (number | undefined)[] = replicas.map(() => undefined);
  const t0 = writtenFrom;
  const chunks = Math.ceil(bytesEach / MiB);
  for (let k = 0; k < chunks; k++) {
    replicas.forEach((id, r) => {
      const path = join(dir, `${id}.log`);
      let text = "";
      let n = counts[r] ?? 0;
      while (text.length < MiB) text += `${id} ${String(n++).padStart(9, "0")} ${padding}\n`;
      counts[r] = n;
      appendFileSync(path, text);
      sizes[r] = sampleLogSize(path, sizes[r], t0 + k * 1000 + r * 10);
      if (r === 0 && k === Math.floor(chunks / 2)) {
        rotateIfLarge(path, 0, 5);
        sizes[r] = undefined;
      }
    });
  }
  return counts;
}

/**
 * Checks `source | line` output as it comes: each replica's numbers in order from its first
 * expected one, none missing.
 */
function lineChecker(
  replicas: readonly string[],
  first: readonly number[],
): {
  lines(text: string): void;
  counts(): number[];
  errors(): string[];
} {
  const next = new Map(replicas.map((id, i) => [id, first[i] ?? 0]));
  const errors: string[] = [];
  return {
    lines(text) {
      if (text === "") return;
      for (const line of text.split("\n")) {
        const match = /^(\S+)\s+\| (\S+) (\d+) /.exec(line);
        const id = match?.[1];
        const expected = id === undefined ? undefined : next.get(id);
        if (match === null || expected === undefined || match[2] !== id) {
          if (errors.length < 5) errors.push(`unexpected line: ${line.slice(0, 120)}`);
          continue;
        }
        if (Number(match[3]) !== expected && errors.length < 5) {
          errors.push(`${id}: expected line ${expected}, got ${line.slice(0, 120)}`);
        }
        next.set(id as string, Number(match[3]) + 1);
      }
    },
    counts: () => replicas.map((id) => next.get(id) ?? 0),
    errors: () => errors,
  };
}

function residentPeakKiB(pid: number | undefined): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined; // already gone
  }
}

interface RunJson {
  run: { id: number; state: string };
}

interface JsonRecord {
  at: string;
  source: string;
  app?: string;
  replica?: string;
  run?: number;
  step?: string;
  line: string;
  fields?: Record<string, unknown>;
}

/** Some replica of web other than `old` (the rollout's new one). */
function fresh_(records: readonly JsonRecord[], old: string): string | undefined {
  return records.find((r) => r.app === "web" && r.replica !== old)?.replica;
}

function jsonLines(text: string): JsonRecord[] {
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as JsonRecord);
}

/** A `baton logs ... -f --json` running in the background, its lines parsed as they come. */
function followJson(
  cwd: string,
  args: string[],
): { records(): JsonRecord[]; stop(): Promise<void> } {
  const child: ChildProcess = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1" },
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    records: () => {
      if (err !== "") throw new Error(`baton ${args.join(" ")}: ${err}`);
      return jsonLines(out.slice(0, out.lastIndexOf("\n") + 1));
    },
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** A git repository with a one-step pipeline's script. */
function makeRepo(dir: string): void {
  const work = join(dir, "check");
  mkdirSync(work);
  git(work, "init", "-q", "-b", "main");
  writeFileSync(join(work, "test.sh"), "echo checked 42\n");
  git(work, "add", ".");
  git(work, "commit", "-qm", "check");
  git(dir, "clone", "-q", "--bare", work, join(dir, "check.git"));
}

// Logs a JSON line with a counter every 20 ms (every 7th an error) and, on SIGTERM, the
// counter it stopped at: what a follower must have seen in full.
const COUNTER_APP = `
const http = require("node:http");
let n = 0;
const log = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
const timer = setInterval(() => {
  log({ level: n % 7 === 3 ? "error" : "info", msg: "tick", n, version: process.env.VERSION });
  n++;
}, 20);
const server = http.createServer((req, res) => res.end("ok"));
server.listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => {
  clearInterval(timer);
  log({ level: "info", msg: "stopping", n: n - 1 });
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 200).unref();
});
`;
