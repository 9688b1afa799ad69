/**
 * Pipelines from a real bare git repository, as a team uses them: `baton hooks install`
 * writes the post-receive hook, a `git push` starts a run in the controller, a failing test
 * blocks the run and names the test, a newer push supersedes an older run still testing,
 * `baton run` starts one by hand, and a controller killed during a run leaves it interrupted.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Project } from "../helpers/cli.js";
import { eventually, processAlive } from "../helpers/wait.js";

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "dev",
  GIT_AUTHOR_EMAIL: "dev@example.invalid",
  GIT_COMMITTER_NAME: "dev",
  GIT_COMMITTER_EMAIL: "dev@example.invalid",
};
const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, { cwd, env: GIT_ENV, encoding: "utf8", stdio: "pipe" }).trim();

// The sample app's test: reads `verdict` (pass/fail) and how long to take, writes JUnit.
const TEST_SCRIPT = `#!/bin/sh
sleep "$(cat delay)"
mkdir -p reports
if [ "$(cat verdict)" = pass ]; then
  echo "all good"
  printf '<testsuite tests="2"><testcase classname="cart" name="adds items"/><testcase classname="cart" name="totals"/></testsuite>' > reports/junit.xml
else
  echo "cart totals are wrong"
  printf '<testsuite tests="2"><testcase classname="cart" name="adds items"/><testcase classname="cart" name="totals"><failure message="expected 3"/></testcase></testsuite>' > reports/junit.xml
  exit 1
fi
`;

interface RunJson {
  run: { id: number; state: string; reason: string | null; commit: string; trigger: string };
  steps: {
    name: string;
    state: string;
    detail: string | null;
    tests: { failures: string[] } | null;
    started: { kind: string; pgid?: number } | null;
  }[];
}

let p: Project;
let bare: string;
let work: string;

async function runs(): Promise<RunJson[]> {
  return (JSON.parse((await p.ok("runs", "--json", "-n", "50")).stdout) as { runs: RunJson[] })
    .runs;
}

async function runOf(commit: string): Promise<RunJson | undefined> {
  return (await runs()).find((r) => r.run.commit === commit);
}

async function ended(commit: string, what: string): Promise<RunJson> {
  return eventually(
    what,
    () => runOf(commit),
    (r) => r !== undefined && !["queued", "running"].includes(r.run.state),
    60_000,
  ) as Promise<RunJson>;
}

let commits = 0;
function commit(verdict: "pass" | "fail", delay = 0): string {
  // Every commit differs, even with the same verdict and delay.
  writeFileSync(join(work, "commit-number"), `${++commits}\n`);
  writeFileSync(join(work, "verdict"), `${verdict}\n`);
  writeFileSync(join(work, "delay"), `${delay}\n`);
  git(work, "add", ".");
  git(work, "commit", "-qm", `${verdict} after ${delay}s`);
  return git(work, "rev-parse", "HEAD");
}

beforeAll(async () => {
  p = new Project("apps: {}\n");
  bare = p.path("shop.git");
  work = p.path("shop");
  git(p.dir, "init", "-q", "--bare", "-b", "main", bare);
  mkdirSync(work);
  git(work, "init", "-q", "-b", "main");
  writeFileSync(join(work, "test.sh"), TEST_SCRIPT);
  commit("pass");
  git(work, "remote", "add", "origin", bare);
  git(work, "push", "-q", "origin", "main");
  p.write(
    "baton.yaml",
    `pipelines:
  shop:
    source: { repo: shop.git, branch: main }
    triggers: { poll: false }
    steps:
      - name: test
        run: sh test.sh
        reports: { junit: reports/*.xml }
        timeout: 2m
`,
  );
  await p.ok("up", "--detach");
  const installed = await p.ok("hooks", "install");
  expect(installed.stdout).toContain("shop.git: hook installed");
}, 120_000);

afterAll(async () => {
  await p?.cleanup();
});

describe("pipelines from git", () => {
  it("a push runs the pipeline on exactly that commit; a failing test blocks it and is named", async () => {
    const good = commit("pass");
    git(work, "push", "-q", "origin", "main");
    const passed = await ended(good, "the pushed commit's run ends");
    expect(passed.run).toMatchObject({ state: "passed", trigger: "poll" });
    expect(passed.steps[0]).toMatchObject({
      name: "test",
      state: "passed",
      detail: "2 tests, 0 failed, 0 skipped",
    });
    const logs = await p.ok("run", "logs", String(passed.run.id));
    expect(logs.stdout).toMatch(/^test \| --- baton: step test, attempt 1 of 1/m);
    expect(logs.stdout).toMatch(/^test \| all good$/m);

    const bad = commit("fail");
    git(work, "push", "-q", "origin", "main");
    const failed = await ended(bad, "the failing commit's run ends");
    expect(failed.run).toMatchObject({
      state: "failed",
      reason: "test failed: 1 of 2 tests failed: totals (cart)",
    });
    expect(failed.steps[0]?.tests?.failures).toEqual(["totals (cart)"]);
    const listed = await p.ok("runs");
    expect(listed.stdout).toMatch(/^ {3}test +failed +\S+ +1 of 2 tests failed: totals \(cart\)$/m);
  }, 120_000);

  it("a newer push cancels an older run that is still testing; `baton run` starts one by hand", async () => {
    const slow = commit("pass", 30);
    git(work, "push", "-q", "origin", "main");
    await eventually(
      "the slow run tests",
      () => runOf(slow),
      (r) => r?.steps[0]?.state === "running",
      30_000,
    );
    const fast = commit("pass");
    git(work, "push", "-q", "origin", "main");
    const superseded = await ended(slow, "the slow run is superseded");
    expect(superseded.run.state).toBe("cancelled");
    expect(superseded.run.reason).toMatch(/^superseded by #\d+ \([0-9a-f]{8}\)$/);
    expect((await ended(fast, "the newer run ends")).run.state).toBe("passed");

    const byHand = await p.run("run", "shop", "--wait");
    expect(byHand.code, byHand.stdout + byHand.stderr).toBe(0);
    expect(byHand.stdout).toMatch(/shop #\d+ queued for [0-9a-f]{8}/);
    expect((await runs())[0]?.run).toMatchObject({
      state: "passed",
      trigger: "manual",
      commit: fast,
    });
    // By hand again, on the slow commit, then cancelled: its test's processes are stopped.
    const queued = JSON.parse((await p.ok("run", "shop", "--ref", slow, "--json")).stdout) as {
      run: { id: number };
    };
    const id = queued.run.id;
    const started = await eventually(
      "the run by hand tests",
      async () => (await runs()).find((r) => r.run.id === id),
      (r) => r?.steps[0]?.started?.pgid !== undefined,
      30_000,
    );
    expect((await p.ok("run", "cancel", String(id))).stdout).toBe(`run #${id} cancelled\n`);
    const cancelled = await eventually(
      "the cancelled run ends",
      async () => (await runs()).find((r) => r.run.id === id),
      (r) => r?.run.state === "cancelled" && r.steps[0]?.state === "cancelled",
      30_000,
    );
    // Who cancelled is the token's name: the state directory's own here.
    expect(cancelled?.run.reason).toBe("cancelled by bootstrap");
    const pgid = started?.steps[0]?.started?.pgid ?? 0;
    await eventually(
      "its processes end",
      () => processAlive(pgid),
      (alive) => !alive,
      15_000,
    );
    const again = await p.run("run", "cancel", String(id));
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`run #${id} has ended (cancelled): there is nothing to cancel`);

    const unknown = await p.run("run", "shpo");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no pipeline named "shpo"[\s\S]*pipelines: shop/);
  }, 180_000);

  it("a controller killed during a run leaves it interrupted, never half-done, and runs again", async () => {
    const slow = commit("pass", 30);
    git(work, "push", "-q", "origin", "main");
    const testing = await eventually(
      "the run tests",
      () => runOf(slow),
      (r) => r?.steps[0]?.started?.pgid !== undefined,
      30_000,
    );
    const pgid = testing?.steps[0]?.started?.pgid ?? 0;
    expect(processAlive(pgid)).toBe(true);
    const { controller } = await p.status();
    process.kill(controller.pid, "SIGKILL");
    await eventually(
      "the controller is gone",
      () => processAlive(controller.pid),
      (alive) => !alive,
      10_000,
    );
    await p.ok("up", "--detach");
    const interrupted = await ended(slow, "the run is settled");
    expect(interrupted.run.state).toBe("interrupted");
    expect(interrupted.steps[0]?.state).toBe("interrupted");
    // The step the dead controller had started is stopped by the new one.
    await eventually(
      "the interrupted step's processes end",
      () => processAlive(pgid),
      (alive) => !alive,
      15_000,
    );
    // Pushed and never run: the next push (or poll) runs the branch's head again.
    const next = commit("pass");
    git(work, "push", "-q", "origin", "main");
    expect((await ended(next, "the next push runs")).run.state).toBe("passed");
  }, 180_000);

  it("a schedule starts runs of the branch's head", async () => {
    const definition = p.path("baton.yaml");
    const before = readFileSync(definition, "utf8");
    p.write(
      "baton.yaml",
      before.replace(
        "triggers: { poll: false }",
        'triggers: { poll: false, schedule: "*/2 * * * * *" }',
      ),
    );
    await p.ok("apply");
    try {
      await eventually(
        "a scheduled run passes",
        runs,
        (list) => list.some((r) => r.run.trigger === "schedule" && r.run.state === "passed"),
        30_000,
      );
    } finally {
      p.write("baton.yaml", before);
      await p.ok("apply");
    }
  }, 60_000);
});
