/**
 * A run from its queued record to its end, with a real git repository and real processes
 * (the delivery module's checkout and step runner). The release actions stand for the
 * controller's (tested with it elsewhere): they record what they were asked.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type PipelineSpec, parseDefinition } from "../../../src/definition/index.js";
import { PipelineRunner, type ReleaseActions } from "../../../src/delivery/pipeline-runner.js";
import { type NewEvent, SqliteStore } from "../../../src/store/index.js";
import { eventually } from "../../helpers/wait.js";

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@example.invalid",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@example.invalid",
};
const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, { cwd, env: GIT_ENV, encoding: "utf8" }).trim();

function setup(steps: string) {
  const root = mkdtempSync(join(tmpdir(), "baton-runner-"));
  temps.push(root);
  const repo = join(root, "repo");
  execFileSync("mkdir", ["-p", repo]);
  git(repo, "init", "-q", "-b", "main");
  writeFileSync(join(repo, "check.sh"), 'test "$(cat version)" = good\n');
  writeFileSync(join(repo, "version"), "good\n");
  writeFileSync(
    join(repo, "report.sh"),
    `ok=$(test "$(cat version)" = good && echo '/>' || echo '><failure message="bad"/></testcase>')
printf '<testsuite tests="2"><testcase classname="check" name="runs"/><testcase classname="check" name="version is good"%s</testsuite>' "$ok" > report.xml
`,
  );
  git(repo, "add", ".");
  git(repo, "commit", "-qm", "first");
  const good = git(repo, "rev-parse", "HEAD");
  writeFileSync(join(repo, "version"), "bad\n");
  git(repo, "commit", "-qam", "second");
  const bad = git(repo, "rev-parse", "HEAD");
  writeFileSync(join(root, "Dockerfile"), "FROM scratch\n");
  const definition = parseDefinition(
    `registry: 127.0.0.1:5000
apps:
  api: { build: { context: . }, command: [node, server.js] }
environments: { dev: {}, prod: { state: .baton-prod } }
pipelines:
  api:
    source: { repo: repo }
    steps:
${steps}`,
    join(root, "baton.yaml"),
  );
  const pipeline = definition.pipelines.api as PipelineSpec;
  const store = SqliteStore.open(join(root, "state"), { create: true });
  const events: NewEvent[] = [];
  const asked: string[] = [];
  const release: ReleaseActions = {
    build: async ({ app, checkout, run, log }) => {
      log(`building ${app}`);
      asked.push(`build ${app} at ${git(checkout, "rev-parse", "HEAD").slice(0, 7)}`);
      return `${run.commit.slice(0, 7)}-1`;
    },
    deploy: async ({ app, environment, version }) => {
      asked.push(`deploy ${app} ${version} to ${environment}`);
    },
    healthySince: async () => 0,
  };
  const runner = new PipelineRunner({
    store: store.runs,
    emit: (e) => events.push(e),
    runsDir: join(root, "runs"),
    cacheRoot: join(root, "cache"),
    mirrorRoot: join(root, "mirrors"),
    release,
  });
  const queue = (commit: string) =>
    store.runs.create({
      pipeline: "api",
      branch: "main",
      commit,
      trigger: "manual",
      createdBy: "test",
      steps: pipeline.steps.map((s) => ({ name: s.name, kind: s.kind })),
    });
  return { root, pipeline, store, runner, events, asked, queue, good, bad };
}

describe("a pipeline run", () => {
  it("tests the exact commit, builds, deploys, waits for approval, promotes the same release", async () => {
    const t = setup(`      - { name: test, run: sh check.sh }
      - { name: image, build: api }
      - { name: dev, deploy: { app: api, env: dev } }
      - { name: prod, promote: { app: api, to: prod, approval: manual } }
`);
    const run = t.queue(t.good);
    const done = t.runner.execute(t.pipeline, run);
    await eventually(
      "prod waits for its approval",
      () => t.store.runs.steps(run.id).find((s) => s.name === "prod"),
      (s) => s?.state === "waiting",
      10_000,
    );
    expect(t.runner.approve(run.id, "alice")).toBe(true);
    expect(await done).toEqual({ state: "passed" });
    expect(t.asked).toEqual([
      `build api at ${t.good.slice(0, 7)}`,
      `deploy api ${t.good.slice(0, 7)}-1 to dev`,
      `deploy api ${t.good.slice(0, 7)}-1 to prod`,
    ]);
    const steps = t.store.runs.steps(run.id);
    expect(steps.map((s) => `${s.name} ${s.state}`)).toEqual([
      "test passed",
      "image passed",
      "dev passed",
      "prod passed",
    ]);
    expect(steps[3]).toMatchObject({ approvedBy: "alice" });
    expect(t.store.runs.get(run.id)).toMatchObject({
      state: "passed",
      release: { app: "api", version: `${t.good.slice(0, 7)}-1` },
    });
    expect(t.events.filter((e) => e.type !== "run.step").map((e) => e.type)).toEqual([
      "run.started",
      "run.waiting",
      "run.approved",
      "run.passed",
    ]);
    expect(t.events.filter((e) => e.type === "run.step").map((e) => e.message)).toEqual([
      `api #${run.id} test running`,
      `api #${run.id} test passed`,
      `api #${run.id} image running`,
      `api #${run.id} image passed: release ${t.good.slice(0, 7)}-1`,
      `api #${run.id} dev running`,
      `api #${run.id} dev passed: api ${t.good.slice(0, 7)}-1 in dev`,
      `api #${run.id} prod running`,
      `api #${run.id} prod passed: api ${t.good.slice(0, 7)}-1 in prod`,
    ]);
    t.store.close();
  });

  it("a deploy with no build before it builds the commit, then deploys and promotes that release", async () => {
    const t = setup(`      - { name: test, run: sh check.sh }
      - { name: dev, deploy: { app: api, env: dev } }
      - { name: prod, promote: { app: api, to: prod } }
`);
    const run = t.queue(t.good);
    expect(await t.runner.execute(t.pipeline, run)).toEqual({ state: "passed" });
    const version = `${t.good.slice(0, 7)}-1`;
    expect(t.asked).toEqual([
      `build api at ${t.good.slice(0, 7)}`,
      `deploy api ${version} to dev`,
      `deploy api ${version} to prod`,
    ]);
    expect(t.store.runs.steps(run.id).map((s) => `${s.name} ${s.state} ${s.detail}`)).toEqual([
      "test passed null",
      `dev passed api ${version} in dev (released by this step)`,
      `prod passed api ${version} in prod`,
    ]);
    expect(t.store.runs.get(run.id)?.release).toEqual({ app: "api", version });
    expect(readFileSync(join(t.root, "runs", String(run.id), "logs", "dev.log"), "utf8")).toBe(
      `building api\ndeploying api ${version} to dev\napi ${version} deployed to dev\n`,
    );
    t.store.close();
  });

  it("a failing test blocks the release; the step's output is in its log", async () => {
    const t = setup(`      - name: test
        run: "echo checking; sh report.sh; sh check.sh"
        reports: { junit: report.xml }
      - { name: image, build: api }
`);
    const run = t.queue(t.bad);
    expect(await t.runner.execute(t.pipeline, run)).toEqual({
      state: "failed",
      reason: "test failed: 1 of 2 tests failed: version is good (check)",
    });
    expect(t.store.runs.steps(run.id)[0]?.tests).toEqual({
      total: 2,
      failed: 1,
      skipped: 0,
      failures: ["version is good (check)"],
    });
    expect(t.asked).toEqual([]);
    expect(t.store.runs.steps(run.id).map((s) => `${s.name} ${s.state}`)).toEqual([
      "test failed",
      "image skipped",
    ]);
    expect(readFileSync(join(t.root, "runs", String(run.id), "logs", "test.log"), "utf8")).toMatch(
      /^--- baton: step test, attempt 1 of 1.*\nchecking\n/,
    );
    t.store.close();
  });

  it("a cancel stops the running command and ends the run cancelled", async () => {
    const t = setup(`      - { name: test, run: "sleep 30" }
      - { name: image, build: api }
`);
    const run = t.queue(t.good);
    const done = t.runner.execute(t.pipeline, run);
    await eventually(
      "the test runs",
      () => t.store.runs.steps(run.id)[0]?.state,
      (state) => state === "running",
      10_000,
    );
    expect(t.runner.cancel(run.id)).toBe(true);
    expect((await done).state).toBe("cancelled");
    expect(t.store.runs.get(run.id)?.state).toBe("cancelled");
    expect(t.store.runs.steps(run.id).map((s) => s.state)).toEqual(["cancelled", "skipped"]);
    t.store.close();
  });
});
