import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunStep } from "../../src/definition/pipeline-model.js";
import {
  runStep,
  type StartedCommand,
  type StepContext,
  stopLeftover,
} from "../../src/delivery/index.js";
import { docker, ensureDocker, nodeBaseImage, removeTestContainers } from "../helpers/docker.js";
import { eventually, processAlive } from "../helpers/wait.js";

const root = mkdtempSync(join(tmpdir(), "baton-steps-"));
const LABEL = `baton.test.delivery-steps=${process.pid}`;
let runs = 0;

afterAll(async () => {
  await removeTestContainers(LABEL);
  rmSync(root, { recursive: true, force: true });
});

function step(fields: Partial<RunStep> & { run: string }): RunStep {
  return {
    kind: "run",
    name: "test",
    needs: [],
    timeoutMs: 30_000,
    retries: 0,
    env: {},
    secrets: {},
    junit: [],
    caches: [],
    artifacts: [],
    ...fields,
  };
}

/** A fresh run: its own checkout, log and artifacts; the cache root is shared by all runs. */
function context(fields: Partial<StepContext> = {}): StepContext & { abort(): void } {
  const run = join(root, `run-${++runs}`);
  mkdirSync(join(run, "checkout"), { recursive: true });
  const controller = new AbortController();
  return {
    pipeline: "api",
    checkout: join(run, "checkout"),
    logFile: join(run, "logs", "test.log"),
    env: { BATON_RUN: `r${runs}` },
    signal: controller.signal,
    cacheRoot: join(root, "caches"),
    artifactsDir: join(run, "artifacts"),
    labels: [LABEL],
    killGraceMs: 500,
    abort: () => controller.abort(),
    ...fields,
  };
}

const log = (ctx: StepContext): string => readFileSync(ctx.logFile, "utf8");
const pidIn = (file: string): number => Number(readFileSync(file, "utf8").trim());

describe("a run step on the host", () => {
  it("passes, its stdout and stderr in the log", async () => {
    const ctx = context();
    const result = await runStep(step({ run: "echo out; echo err >&2" }), ctx);
    expect(result).toMatchObject({ status: "passed", exitCode: 0, attempts: 1, problems: [] });
    expect(log(ctx)).toMatch(/attempt 1 of 1, on the host: echo out[\s\S]*out\nerr\n/);
  });

  it("fails with the command's exit code, its last line kept apart from ours", async () => {
    const ctx = context();
    const result = await runStep(step({ run: "printf 'no newline'; exit 3" }), ctx);
    expect(result).toMatchObject({ status: "failed", exitCode: 3, attempts: 1 });
    expect(log(ctx)).toMatch(/no newline\n--- baton: step test failed with exit code 3 after/);
  });

  it("sees the caller's and the step's variables, not the controller's secrets", async () => {
    process.env.BATON_TEST_ONLY_SETTING = "controller-only";
    process.env.DEPLOY_TOKEN = "s3cret";
    try {
      const ctx = context();
      const result = await runStep(
        step({
          run: 'echo "run=$BATON_RUN greeting=$GREETING [${BATON_TEST_ONLY_SETTING:-}${DEPLOY_TOKEN:-}] path=${PATH:+set}"',
          env: { GREETING: "hi" },
        }),
        ctx,
      );
      expect(result.status).toBe("passed");
      expect(log(ctx)).toContain(`run=${ctx.env.BATON_RUN} greeting=hi [] path=set`);
    } finally {
      delete process.env.BATON_TEST_ONLY_SETTING;
      delete process.env.DEPLOY_TOKEN;
    }
  });

  it("gets its secrets from a file and the controller's environment, masked in its log", async () => {
    const file = join(root, "npm-token");
    writeFileSync(file, "tok-FILE-4f9a\n");
    process.env.BATON_TEST_REGISTRY_KEY = "key-ENV-77c1";
    try {
      const ctx = context();
      const result = await runStep(
        step({
          // Whole, split in two writes, on stderr and in a longer line: each masked.
          run: [
            'echo "token=$NPM_TOKEN"',
            'printf "%s" "$KEY" | head -c 5; sleep 0.2; printf "%s\\n" "$KEY" | tail -c +6',
            'echo "to stderr $NPM_TOKEN" >&2',
            // Their lengths say the values arrived whole (the newline of the file dropped).
            'test "${#NPM_TOKEN}" = 13 && test "${#KEY}" = 12 && echo both-right',
          ].join("; "),
          secrets: {
            NPM_TOKEN: { kind: "file", path: file },
            KEY: { kind: "env", name: "BATON_TEST_REGISTRY_KEY" },
          },
        }),
        ctx,
      );
      expect(result).toMatchObject({ status: "passed" });
      const text = log(ctx);
      // stdout and stderr are two pipes: their lines may interleave either way.
      expect(text).toContain("token=***\n***\n");
      expect(text).toContain("to stderr ***\n");
      expect(text).toContain("both-right\n");
      expect(text).not.toContain("tok-FILE");
      expect(text).not.toContain("key-ENV");

      const missing = context();
      const failed = await runStep(
        step({ run: "true", secrets: { KEY: { kind: "env", name: "BATON_TEST_UNSET_KEY" } } }),
        missing,
      );
      expect(failed).toMatchObject({ status: "failed", attempts: 0 });
      expect(failed.problems).toEqual([
        "secret KEY: the controller's environment has no BATON_TEST_UNSET_KEY; start the controller with it set (e.g. BATON_TEST_UNSET_KEY=… baton up --detach)",
      ]);
    } finally {
      delete process.env.BATON_TEST_REGISTRY_KEY;
    }
  });

  it("a timeout kills the whole tree, even a grandchild that ignores SIGTERM", async () => {
    const ctx = context();
    const pidFile = join(ctx.checkout, "grandchild.pid");
    const started = Date.now();
    const result = await runStep(
      step({
        run: "trap '' TERM; sleep 1000 & echo $! > grandchild.pid; wait",
        timeoutMs: 700,
        retries: 2,
      }),
      ctx,
    );
    expect(result).toMatchObject({ status: "timed-out", exitCode: null, attempts: 1 });
    expect(Date.now() - started).toBeLessThan(700 + 500 + 2_000);
    expect(processAlive(pidIn(pidFile))).toBe(false);
    expect(log(ctx)).toContain("timed out after 0.7 s: killed");
  });

  it("a cancel kills the whole tree at once", async () => {
    const ctx = context();
    const pidFile = join(ctx.checkout, "grandchild.pid");
    const running = runStep(
      step({ run: "sh -c 'sleep 1000 & echo $! > grandchild.pid; wait'" }),
      ctx,
    );
    const grandchild = await eventually(
      "the grandchild has written its pid",
      () => (existsSync(pidFile) ? pidIn(pidFile) : 0),
      (pid) => pid > 0,
    );
    expect(processAlive(grandchild)).toBe(true);
    const cancelledAt = Date.now();
    ctx.abort();
    const result = await running;
    expect(result).toMatchObject({ status: "cancelled", exitCode: null });
    expect(Date.now() - cancelledAt).toBeLessThan(2_000);
    expect(processAlive(grandchild)).toBe(false);
  });

  it("what it started can be stopped from its record (a restarted controller)", async () => {
    const started: StartedCommand[] = [];
    const ctx = context({ onStarted: (command) => started.push(command) });
    const pidFile = join(ctx.checkout, "bg.pid");
    const running = runStep(step({ run: "sleep 1000 & echo $! > bg.pid; wait" }), ctx);
    const background = await eventually(
      "the step has started its background job",
      () => (existsSync(pidFile) ? pidIn(pidFile) : 0),
      (pid) => pid > 0,
    );
    expect(started).toEqual([expect.objectContaining({ kind: "process" })]);
    await stopLeftover(started[0]!, { killGraceMs: 500 });
    expect(processAlive(background)).toBe(false);
    expect(await running).toMatchObject({ status: "failed", exitCode: 143 });
  });

  it("ends what a passing command left running in the background", async () => {
    const ctx = context();
    const result = await runStep(step({ run: "sleep 1000 & echo $! > bg.pid" }), ctx);
    expect(result.status).toBe("passed");
    expect(processAlive(pidIn(join(ctx.checkout, "bg.pid")))).toBe(false);
  });

  it("retries after a failure, each attempt named in the log", async () => {
    const ctx = context();
    const flaky =
      'n=$(cat n 2>/dev/null || echo 0); n=$((n+1)); echo $n > n; echo "try $n"; [ $n -ge 3 ]';
    const result = await runStep(step({ run: flaky, retries: 2 }), ctx);
    expect(result).toMatchObject({ status: "passed", exitCode: 0, attempts: 3 });
    const text = log(ctx);
    expect(text).toMatch(/attempt 1 of 3[\s\S]*try 1\n[\s\S]*attempt 2 of 3[\s\S]*try 2\n/);
    expect(text).toMatch(/attempt 3 of 3[\s\S]*try 3\n/);

    const exhausted = await runStep(step({ run: "exit 5", retries: 1 }), context());
    expect(exhausted).toMatchObject({ status: "failed", exitCode: 5, attempts: 2 });
  });

  it("counts JUnit failures with the failing tests' names", async () => {
    const ctx = context();
    const report = `<testsuites><testsuite name="cart">
<testcase classname="cart" name="adds"/>
<testcase classname="cart" name="applies a &quot;discount&quot;"><failure message="expected 90, got 100"/></testcase>
<testcase classname="cart" name="later"><skipped/></testcase></testsuite></testsuites>`;
    const result = await runStep(
      step({
        run: `mkdir -p reports && cat > reports/unit.xml <<'XML'\n${report}\nXML\nexit 1`,
        junit: ["reports/*.xml", "missing/*.xml"],
      }),
      ctx,
    );
    expect(result).toMatchObject({ status: "failed", exitCode: 1 });
    expect(result.tests).toEqual({
      total: 3,
      failed: 1,
      skipped: 1,
      failures: [
        { name: 'applies a "discount"', classname: "cart", message: "expected 90, got 100" },
      ],
    });
    expect(log(ctx)).toContain('tests: 3 run, 1 failed, 1 skipped (failed: applies a "discount")');
  });

  it("restores a cache saved by a passing run, never one of a failing run", async () => {
    const caches = [{ path: ".cache/deps", key: "deps" }];
    const save = (content: string, code: number) =>
      runStep(
        step({
          run: `mkdir -p .cache/deps && echo ${content} > .cache/deps/data; exit ${code}`,
          caches,
        }),
        context(),
      );
    expect((await save("v1", 0)).status).toBe("passed");
    expect((await save("v2", 1)).status).toBe("failed");
    const ctx = context();
    const result = await runStep(step({ run: "cat .cache/deps/data", caches }), ctx);
    expect(result.status).toBe("passed");
    expect(log(ctx)).toContain("cache deps: restored into .cache/deps");
    expect(log(ctx)).toMatch(/cat \.cache\/deps\/data\nv1\n/);
  });

  it("keeps the artifacts matching its globs, with their paths", async () => {
    const ctx = context();
    const result = await runStep(
      step({
        run: "mkdir -p dist/sub && echo a > dist/app.js && echo b > dist/sub/app.map && echo c > notes.txt",
        artifacts: ["dist/**"],
      }),
      ctx,
    );
    expect(result.artifacts).toEqual(["dist/app.js", "dist/sub/app.map"]);
    expect(readFileSync(join(ctx.artifactsDir, "dist/sub/app.map"), "utf8")).toBe("b\n");
    expect(existsSync(join(ctx.artifactsDir, "notes.txt"))).toBe(false);
  });
});

describe("a run step in a container", () => {
  let image = "";
  beforeAll(async () => {
    await ensureDocker();
    image = await nodeBaseImage();
  });

  const ourContainers = async (): Promise<string[]> =>
    (await docker(["ps", "-aq", "--filter", `label=${LABEL}`])).split("\n").filter(Boolean);

  it("runs in /workspace with its env, leaves files we own, and is removed", async () => {
    process.env.BATON_TEST_CONTAINER_PASS = "c0ntainer-secret";
    const ctx = context();
    const result = await runStep(
      step({
        image,
        run: 'echo "in $(pwd) as $GREETING for $BATON_RUN"; echo "secret is $PASS."; echo made > out.txt; exit 4',
        env: { GREETING: "hi" },
        secrets: { PASS: { kind: "env", name: "BATON_TEST_CONTAINER_PASS" } },
      }),
      ctx,
    );
    expect(result).toMatchObject({ status: "failed", exitCode: 4, attempts: 1 });
    expect(log(ctx)).toContain(`in /workspace as hi for ${ctx.env.BATON_RUN}`);
    expect(log(ctx)).toContain("secret is ***.");
    expect(log(ctx)).not.toContain("c0ntainer-secret");
    const made = statSync(join(ctx.checkout, "out.txt"));
    expect(made.uid).toBe(process.getuid?.());
    expect(await ourContainers()).toEqual([]);
  });

  it("a timeout kills the container", async () => {
    const ctx = context();
    const started = Date.now();
    const result = await runStep(step({ image, run: "sleep 1000", timeoutMs: 1_000 }), ctx);
    expect(result).toMatchObject({ status: "timed-out", exitCode: null });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await ourContainers()).toEqual([]);
  });

  it("a cancel kills the container; a recorded one can be removed by name", async () => {
    const started: StartedCommand[] = [];
    const ctx = context({ onStarted: (command) => started.push(command) });
    const running = runStep(step({ image, run: "sleep 1000" }), ctx);
    await eventually(
      "the container has started",
      () => started.length,
      (n) => n === 1,
    );
    const cancelledAt = Date.now();
    ctx.abort();
    expect(await running).toMatchObject({ status: "cancelled", exitCode: null });
    expect(Date.now() - cancelledAt).toBeLessThan(10_000);
    expect(await ourContainers()).toEqual([]);

    const more: StartedCommand[] = [];
    const second = context({ onStarted: (command) => more.push(command) });
    const orphan = runStep(step({ image, run: "sleep 1000" }), second);
    await eventually(
      "the container has started",
      () => more.length,
      (n) => n === 1,
    );
    await stopLeftover(more[0]!);
    expect(await orphan).toMatchObject({ status: "failed" });
    expect(await ourContainers()).toEqual([]);
  });

  it("a missing image fails the step saying how to get it", async () => {
    const ctx = context();
    const result = await runStep(step({ image: "baton-test/no-such-image:1", run: "true" }), ctx);
    expect(result).toMatchObject({ status: "failed", exitCode: null });
    expect(result.problems.join("\n")).toMatch(
      /"baton-test\/no-such-image:1" is not on this machine's Docker engine: build or load it first/,
    );
    expect(log(ctx)).toContain("is not on this machine's Docker engine");
  });
});
