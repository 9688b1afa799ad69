import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { processesUsingState } from "../../src/runtime/process/index.js";
import { ReplicaCensus, replicaProcesses } from "../helpers/census.js";
import { freePort, Project, type StatusJson, TEST_APP } from "../helpers/cli.js";
import { Load } from "../helpers/load.js";
import { eventually, processAlive } from "../helpers/wait.js";

/**
 * The controller is SIGKILLed at chosen steps of a rollout while load runs; `baton up`
 * again must adopt what runs, resume the rollout from its journal and finish it with no
 * failed request, the exact replica count, no orphan and never more than replicas+surge.
 */

let project: Project | undefined;
const loads: Load[] = [];
/** Processes a test left running from a state directory it deleted: `baton down` cannot reach them. */
const strays: number[] = [];

afterEach(async () => {
  for (const pid of strays.splice(0)) {
    if (processAlive(pid)) process.kill(pid, "SIGKILL");
  }
  await Promise.all(loads.splice(0).map((l) => l.stop()));
  await project?.cleanup();
  project = undefined;
});

const REPLICAS = 3;

function definition(port: number, env: string): string {
  return `apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    replicas: ${REPLICAS}
    port: ${port}
    ignore: [ready/, ready-old/]
    env: { ${env} }
    health:
      readiness: { http: /healthz, interval: 200ms }
    update: { maxSurge: 1, maxUnavailable: 0, healthyDeadline: 60s, drainTimeout: 10s }
`;
}

const web = (s: StatusJson) => s.apps.find((a) => a.name === "web")!;

interface Step {
  rollout: number;
  action: string;
  replica: string | null;
}

const rolloutIdOf = (steps: Step[]) => steps[0]?.rollout ?? 0;
interface RolloutJson {
  rollout: { id: number; state: string; toRevision: string; fromRevision: string | null } | null;
  steps: Step[];
}

async function rollout(p: Project): Promise<RolloutJson> {
  return JSON.parse((await p.ok("rollout", "status", "web", "--json")).stdout) as RolloutJson;
}

async function untilStep(p: Project, what: string, accept: (steps: Step[]) => boolean) {
  return eventually(what, async () => (await rollout(p)).steps, accept, 30_000);
}

/** SIGKILL, as a crash or the OOM killer would; the data plane must not notice. */
async function killController(p: Project): Promise<void> {
  const pid = (await p.status()).controller.pid;
  process.kill(pid, "SIGKILL");
  await eventually(
    "the controller is gone",
    () => processAlive(pid),
    (alive) => !alive,
  );
}

async function setup(
  oldEnv: (p: Project) => string = () => "GREETING: old",
): Promise<{ p: Project; port: number; census: ReplicaCensus; load: Load }> {
  const port = await freePort();
  project = new Project(definition(port, "GREETING: old"));
  const p = project;
  p.write("baton.yaml", definition(port, oldEnv(p)));
  mkdirSync(p.path("ready"));
  mkdirSync(p.path("ready-old"));
  writeFileSync(p.path("ready-old/all"), "");
  await p.ok("up", "--detach");
  await p.ok("wait", "--timeout", "30s");
  const census = new ReplicaCensus(p.stateDir);
  const load = new Load(port, 4, 90_000);
  loads.push(load);
  await eventually(
    "load flows",
    () => load.counts.ok,
    (ok) => ok > 20,
  );
  return { p, port, census, load };
}

/** Everything a resumed rollout must leave behind. */
async function expectConverged(p: Project, census: ReplicaCensus, load: Load, rolloutId: number) {
  await p.ok("wait", "--timeout", "60s");
  const report = await load.stop();
  expect(report.failed, report.errors.join("\n")).toBe(0);
  expect(report.ok).toBeGreaterThan(50);
  const app = web(await p.status());
  expect(app.state).toBe("converged");
  expect(app.replicas).toHaveLength(REPLICAS);
  expect(app.replicas.every((r) => r.revision === app.revision && r.ready)).toBe(true);
  const running = replicaProcesses(p.stateDir);
  expect([...running.keys()].sort(), "no orphan, no duplicate").toEqual(
    app.replicas.map((r) => r.id).sort(),
  );
  expect(census.stop()).toBeLessThanOrEqual(REPLICAS + 1);
  // The same rollout was resumed and finished, not started over.
  const done = await rollout(p);
  expect(done.rollout).toMatchObject({ id: rolloutId, state: "rolled-out" });
  expect(done.rollout?.toRevision).toBe(app.revision);
}

/** `rollout status` straight from the API: milliseconds, where the CLI takes a few hundred. */
async function rolloutPoller(p: Project): Promise<() => Promise<RolloutJson>> {
  const { controller } = await p.status();
  const token = readFileSync(p.path(".baton/api-token"), "utf8").trim();
  return async () => {
    const res = await fetch(`${controller.api}/api/v1/apps/web/rollout`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return (await res.json()) as RolloutJson;
  };
}

/** Applies a new revision whose replicas stay unready until told; returns the first one. */
async function rollHeldUnready(p: Project, port: number): Promise<string | null | undefined> {
  p.write("baton.yaml", definition(port, `GREETING: new, READY_DIR: ${p.path("ready")}`));
  await p.ok("apply");
  const steps = await untilStep(p, "a new replica has started", (s) =>
    s.some((x) => x.action === "started"),
  );
  return steps.find((x) => x.action === "started")?.replica;
}

/** Kills the controller, then sees requests still answered by the proxy without it. */
async function killWhileServing(p: Project, load: Load): Promise<void> {
  await killController(p);
  const during = load.counts.ok;
  await eventually(
    "requests still succeed",
    () => load.counts.ok,
    (ok) => ok > during + 50,
  );
}

describe("a controller killed during a rollout", () => {
  it("before the first new replica is ready: the proxy keeps serving, `up` resumes", async () => {
    const { p, port, census, load } = await setup();
    const first = await rollHeldUnready(p, port);
    const { rollout: current } = await rollout(p);
    await killWhileServing(p, load);

    await p.ok("up", "--detach");
    writeFileSync(p.path("ready/all"), "");
    await expectConverged(p, census, load, current!.id);
    // The replica started before the crash was adopted, not replaced.
    expect(web(await p.status()).replicas.map((r) => r.id)).toContain(first);
  });

  it("mid-way, with one new replica serving and one old one stopped", async () => {
    const { p, port, census, load } = await setup();
    writeFileSync(p.path(`ready/${await rollHeldUnready(p, port)}`), "");
    await untilStep(
      p,
      "an old replica stopped and a second new one started",
      (s) =>
        s.some((x) => x.action === "stopped") &&
        s.filter((x) => x.action === "started").length >= 2,
    );
    const { rollout: current } = await rollout(p);
    await killWhileServing(p, load);

    await p.ok("up", "--detach");
    writeFileSync(p.path("ready/all"), "");
    await expectConverged(p, census, load, current!.id);
  });

  it("while it rolls back a failed revision: `up` finishes the way back", async () => {
    // The old revision's replicas are ready by name: one started on the way back is held
    // unready, so the controller is killed while it rolls back, not after.
    const { p, port, census, load } = await setup(
      (p) => `GREETING: old, READY_DIR: ${p.path("ready-old")}`,
    );
    const before = web(await p.status());
    const old = before.revision;
    for (const r of before.replicas) writeFileSync(p.path(`ready-old/${r.id}`), "");
    rmSync(p.path("ready-old/all"));
    // The first new replica gets ready (an old one goes); the second never does.
    const failing = definition(port, `GREETING: new, READY_DIR: ${p.path("ready")}`).replace(
      "healthyDeadline: 60s",
      "healthyDeadline: 3s",
    );
    p.write("baton.yaml", failing);
    await p.ok("apply");
    const first = (
      await untilStep(p, "a new replica has started", (s) => s.some((x) => x.action === "started"))
    ).find((x) => x.action === "started")?.replica;
    writeFileSync(p.path(`ready/${first}`), "");
    const { controller } = await p.status();
    const poll = await rolloutPoller(p);
    const backing = await eventually(
      "the rollout is rolling back",
      poll,
      (r) => r.rollout?.state === "rolling-back",
      30_000,
    );
    process.kill(controller.pid, "SIGKILL");
    // Killed half-way back: replicas of the failed revision still run.
    const bad = `web-${backing.rollout?.toRevision.slice(0, 6)}-`;
    expect([...replicaProcesses(p.stateDir).keys()].some((id) => id.startsWith(bad))).toBe(true);
    await eventually(
      "the controller is gone",
      () => processAlive(controller.pid),
      (a) => !a,
    );

    await p.ok("up", "--detach");
    writeFileSync(p.path("ready-old/all"), "");
    const app = await eventually(
      "the old revision serves with every replica again",
      async () => web(await p.status()),
      (a) => a.state === "rolled-back" && a.ready === REPLICAS && a.replicas.length === REPLICAS,
      60_000,
    );
    expect(app.revision).toBe(old);
    expect(app.replicas.every((r) => r.revision === old && r.ready)).toBe(true);
    const report = await load.stop();
    expect(report.failed, report.errors.join("\n")).toBe(0);
    const running = replicaProcesses(p.stateDir);
    expect([...running.keys()].sort()).toEqual(app.replicas.map((r) => r.id).sort());
    expect(census.stop()).toBeLessThanOrEqual(REPLICAS + 1);
    const done = await rollout(p);
    expect(done.rollout).toMatchObject({ id: backing.rollout?.id, state: "rolled-back" });
    expect(done.rollout?.fromRevision).toBe(old);
  });

  it("while an old replica drains in-flight requests: they complete, it is stopped", async () => {
    const { p, port, census, load } = await setup();
    // Long requests keep old replicas busy, so each drain lasts seconds.
    const slow = new Load(port, 8, 90_000, 1_000, "/slow?ms=5000");
    loads.push(slow);
    p.write("baton.yaml", definition(port, "GREETING: new"));
    await p.ok("apply");
    const isDraining = (s: Step[], x: Step) =>
      x.action === "unpooled" && !s.some((y) => y.action === "drained" && y.replica === x.replica);
    // Polled straight from the API and killed at once: a drain lasts a few seconds at most.
    const { controller } = await p.status();
    const poll = await rolloutPoller(p);
    const steps = await eventually(
      "an old replica is out of the pool, draining",
      async () => (await poll()).steps,
      (s) => s.some((x) => isDraining(s, x)),
      30_000,
    );
    process.kill(controller.pid, "SIGKILL");
    const draining = steps.find((x) => isDraining(steps, x))?.replica;
    expect(replicaProcesses(p.stateDir).has(draining ?? "")).toBe(true);
    await eventually(
      "the controller is gone",
      () => processAlive(controller.pid),
      (a) => !a,
    );
    const current = { id: rolloutIdOf(steps) };

    await p.ok("up", "--detach");
    await expectConverged(p, census, load, current!.id);
    const slowReport = await slow.stop();
    expect(slowReport.failed, slowReport.errors.join("\n")).toBe(0);
    expect(slowReport.ok).toBeGreaterThan(0);
    expect(replicaProcesses(p.stateDir).has(draining!)).toBe(false);
  });
});

describe("a state directory deleted while its replicas run", () => {
  it("is reported with the processes still running from it, never recreated over them", async () => {
    const port = await freePort();
    project = new Project(definition(port, "GREETING: old"));
    const p = project;
    await p.ok("up", "--detach");
    await p.ok("wait", "--timeout", "30s");
    const running = replicaProcesses(p.stateDir);
    await killController(p);
    rmSync(p.stateDir, { recursive: true, force: true });
    // Stopped after the test whatever it finds, so a failing run leaves nothing behind.
    strays.push(...processesUsingState(p.stateDir).map((u) => u.pid));

    const up = await p.run("up", "--detach");
    expect(up.code).toBe(1);
    expect(up.stderr).toMatch(/error\[state\.lost\]/);
    for (const [id, pid] of running) expect(up.stderr).toContain(`replica ${id} (pid ${pid})`);
    expect(up.stderr).toMatch(/the proxy \(pid \d+\)/);
    expect(up.stderr).toMatch(/hint: put the state directory back/);
    // Nothing was started beside them, and no new state was made over them.
    expect(replicaProcesses(p.stateDir).size).toBe(REPLICAS);
    expect(existsSync(join(p.stateDir, "state.db"))).toBe(false);

    // The test stops what it started, by the pids the error named.
    const pids = [...up.stderr.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
    for (const pid of pids) process.kill(pid, "SIGKILL");
    await eventually(
      "they are gone",
      () => pids.filter(processAlive),
      (left) => left.length === 0,
    );
  });
});
