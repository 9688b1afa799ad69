import { afterEach, describe, expect, it } from "vitest";
import { ReplicaCensus, replicaProcesses } from "../helpers/census.js";
import { freePort, Project, type StatusJson, TEST_APP } from "../helpers/cli.js";
import { get } from "../helpers/http.js";
import { Load } from "../helpers/load.js";
import { eventually } from "../helpers/wait.js";

let project: Project | undefined;
let load: Load | undefined;
afterEach(async () => {
  await load?.stop();
  load = undefined;
  await project?.cleanup();
  project = undefined;
});

/** The test app behind the proxy; `ready/` (per-replica readiness switches) is not content. */
function definition(port: number, env: string, extra = ""): string {
  return `apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    replicas: 3
    port: ${port}
    ignore: [ready/]
    env: { ${env} }
    health:
      readiness: { http: /healthz, interval: 200ms }
    update: { maxSurge: 1, maxUnavailable: 0, healthyDeadline: 20s, drainTimeout: 5s }
${extra}`;
}

const web = (s: StatusJson) => s.apps.find((a) => a.name === "web")!;

interface Step {
  action: string;
  replica: string | null;
  detail: string;
}
interface RolloutJson {
  rollout: { id: number; state: string; fromRevision: string | null; toRevision: string } | null;
  steps: Step[];
}
interface HistoryJson {
  current: string | null;
  rollouts: {
    id: number;
    state: string;
    trigger: string;
    toRevision: string;
    fromRevision: string | null;
    reason: string | null;
    lastOutput: string[];
  }[];
}

async function rolloutJson(p: Project): Promise<RolloutJson> {
  return JSON.parse((await p.ok("rollout", "status", "web", "--json")).stdout) as RolloutJson;
}

async function history(p: Project): Promise<HistoryJson> {
  return JSON.parse((await p.ok("history", "web", "--json")).stdout) as HistoryJson;
}

async function started(env: string, extra = ""): Promise<{ project: Project; port: number }> {
  const port = await freePort();
  project = new Project(definition(port, env, extra));
  await project.ok("up", "--detach");
  await project.ok("wait", "--timeout", "30s");
  return { project, port };
}

describe("a rolling update", () => {
  it("replaces every replica under continuous keep-alive load without one failed request", async () => {
    const { project: p, port } = await started("GREETING: v1");
    const before = web(await p.status());
    const census = new ReplicaCensus(p.stateDir);
    load = new Load(port, 4, 60_000);
    await eventually(
      "load flows",
      () => load!.counts.ok,
      (ok) => ok > 50,
    );

    p.write("baton.yaml", definition(port, "GREETING: v2"));
    await p.ok("apply", "--wait", "--timeout", "60s");
    const report = await load.stop();
    load = undefined;
    const most = census.stop();

    expect(report.failed, report.errors.join("\n")).toBe(0);
    expect(report.ok).toBeGreaterThan(100);
    const after = web(await p.status());
    expect(after.revision).not.toBe(before.revision);
    expect(after.replicas).toHaveLength(3);
    expect(after.replicas.every((r) => r.revision === after.revision && r.ready)).toBe(true);
    // Old replicas are gone, not only out of the status.
    const running = replicaProcesses(p.stateDir);
    expect([...running.keys()].sort()).toEqual(after.replicas.map((r) => r.id).sort());
    expect(before.replicas.some((r) => running.has(r.id))).toBe(false);
    expect((await get(port)).body).toMatch(/^v2 from web-/);
    // Never more than replicas + maxSurge processes.
    expect(most).toBeLessThanOrEqual(4);

    // Journal: each new replica is ready and pooled before an old one leaves the pool.
    const { rollout, steps } = await rolloutJson(p);
    expect(rollout?.state).toBe("rolled-out");
    const oldIds = new Set(before.replicas.map((r) => r.id));
    for (const old of oldIds) {
      const unpooled = steps.findIndex((s) => s.action === "unpooled" && s.replica === old);
      const stopped = steps.findIndex((s) => s.action === "stopped" && s.replica === old);
      expect(unpooled).toBeGreaterThan(0);
      expect(stopped).toBeGreaterThan(unpooled);
      const pooledNew = steps
        .slice(0, unpooled)
        .filter((s) => s.action === "pooled" && !oldIds.has(s.replica ?? "")).length;
      const unpooledOld = steps
        .slice(0, unpooled)
        .filter((s) => s.action === "unpooled" && oldIds.has(s.replica ?? "")).length;
      expect(pooledNew).toBeGreaterThan(unpooledOld);
    }
    expect(steps.at(-1)?.action).toBe("done");
    const { rollouts } = await history(p);
    expect(rollouts[0]).toMatchObject({ state: "rolled-out", trigger: "apply" });
  });

  it("rolls the app when a file in its folder changes, not when an ignored one does", async () => {
    const port = await freePort();
    const server = `const http = require("node:http");
const fs = require("node:fs");
const greeting = fs.readFileSync("config.txt", "utf8").trim();
http.createServer((req, res) => res.end(greeting + "\\n")).listen(Number(process.env.PORT), "127.0.0.1");
`;
    project = new Project(
      `apps:
  web:
    command: ["node", "server.cjs"]
    cwd: site
    ignore: ["*.log"]
    replicas: 2
    port: ${port}
`,
      { "site/server.cjs": server, "site/config.txt": "first\n" },
    );
    const p = project;
    await p.ok("up", "--detach");
    await p.ok("wait", "--timeout", "30s");
    expect((await get(port)).body).toBe("first\n");
    const first = web(await p.status()).revision;

    p.write("site/debug.log", "noise\n");
    expect((await p.ok("plan")).stdout).toContain("No changes");

    p.write("site/config.txt", "second\n");
    expect((await p.ok("plan")).stdout).toMatch(/replace\s+app\/web/);
    await p.ok("apply", "--wait", "--timeout", "30s");
    expect((await get(port)).body).toBe("second\n");
    const second = web(await p.status());
    expect(second.revision).not.toBe(first);
    expect(second.replicas.every((r) => r.revision === second.revision)).toBe(true);

    // Each revision runs from its own copy: editing the folder changes nothing that runs.
    p.write("site/config.txt", "third, not applied\n");
    expect((await get(port)).body).toBe("second\n");

    // ...and a rollback runs the files the old revision ran.
    await p.ok("rollback", "web", "--to", first, "--wait", "--timeout", "30s");
    expect((await get(port)).body).toBe("first\n");
  });

  it("rolls back a revision that is never ready, marks it bad and does not retry it", async () => {
    const { project: p, port } = await started("GREETING: good");
    const good = web(await p.status()).revision;
    load = new Load(port, 4, 60_000);

    // READY_DIR that never gets a file: the new replicas start but are never ready.
    const bad = definition(port, `GREETING: bad, READY_DIR: ${p.path("ready")}`).replace(
      "healthyDeadline: 20s",
      "healthyDeadline: 1500ms",
    );
    p.write("baton.yaml", bad);
    const applied = await p.run("apply", "--wait", "--timeout", "60s");
    expect(applied.code).toBe(1);
    expect(applied.stderr).toMatch(/revision \w+ failed and was rolled back to/);
    expect(applied.stderr).toMatch(/was not ready within 1\.5s/);

    const report = await load.stop();
    load = undefined;
    expect(report.failed, report.errors.join("\n")).toBe(0);
    const after = web(await p.status());
    expect(after.state).toBe("rolled-back");
    expect(after.revision).toBe(good);
    expect(after.ready).toBe(3);
    expect((await get(port)).body).toMatch(/^good from/);

    const { rollouts } = await history(p);
    expect(rollouts[0]).toMatchObject({ state: "rolled-back", fromRevision: good });
    const badRevision = rollouts[0]!.toRevision;

    // The same definition again: the bad revision is not tried again.
    const again = await p.run("apply", "--wait", "--timeout", "10s");
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/No changes/);
    expect((await history(p)).rollouts).toHaveLength(rollouts.length);
    // Nor after a controller restart.
    await p.ok("down");
    // History is a record: it reads from the store while no controller runs.
    expect((await history(p)).rollouts.map((r) => r.id)).toEqual(rollouts.map((r) => r.id));
    expect((await p.ok("history", "web")).stdout).toMatch(/rolled back/);
    await p.ok("up", "--detach");
    await eventually(
      "the good revision serves again after restart",
      async () => web(await p.status()),
      (a) => a.ready === 3 && a.revision === good,
    );
    expect(web(await p.status()).replicas.some((r) => r.revision === badRevision)).toBe(false);

    // A changed definition is rolled out.
    p.write("baton.yaml", definition(port, "GREETING: fixed"));
    await p.ok("apply", "--wait", "--timeout", "30s");
    expect((await get(port)).body).toMatch(/^fixed from/);
  });

  it("rolls back a revision whose replicas crash, and says why with their last output", async () => {
    const { project: p, port } = await started("GREETING: good");
    const good = web(await p.status()).revision;
    p.write("baton.yaml", definition(port, "GREETING: bad, CRASH_AFTER_MS: 100"));
    const applied = await p.run("apply", "--wait", "--timeout", "60s");
    expect(applied.code).toBe(1);
    expect(applied.stderr).toMatch(/exited with code 1/);
    expect(applied.stderr).toMatch(/\| web-\w+-\w+ crashing on purpose/);
    const after = web(await p.status());
    expect(after).toMatchObject({ state: "rolled-back", revision: good, ready: 3 });
    expect(after.rollout?.lastOutput.join("\n")).toMatch(/crashing on purpose/);
    const events = JSON.stringify(await p.api("/api/v1/events?app=web"));
    expect(events).toMatch(/rollout\.failed/);
    expect(events).toMatch(/rollout\.rolled_back/);
  });

  it("rolls back to an earlier revision with `baton rollback`, a rollout like any other", async () => {
    const { project: p, port } = await started("GREETING: one");
    const one = web(await p.status()).revision;
    p.write("baton.yaml", definition(port, "GREETING: two"));
    await p.ok("apply", "--wait", "--timeout", "30s");
    const two = web(await p.status()).revision;
    p.write("baton.yaml", definition(port, "GREETING: three"));
    await p.ok("apply", "--wait", "--timeout", "30s");

    load = new Load(port, 4, 60_000);
    const back = await p.ok(
      "rollback",
      "web",
      "--to",
      one.slice(0, 6),
      "--wait",
      "--timeout",
      "30s",
    );
    expect(back.stdout).toMatch(new RegExp(`rolling back web from \\w+ to ${one}`));
    expect((await get(port)).body).toMatch(/^one from/);
    const status = web(await p.status());
    expect(status.revision).toBe(one);
    expect(status.replicas.every((r) => r.revision === one)).toBe(true);

    // Without --to: the revision that served before the current one.
    await p.ok("rollback", "web", "--wait", "--timeout", "30s");
    expect(web(await p.status()).revision).not.toBe(one);
    const report = await load.stop();
    load = undefined;
    expect(report.failed, report.errors.join("\n")).toBe(0);

    const { rollouts } = await history(p);
    expect(rollouts.slice(0, 2).map((r) => r.trigger)).toEqual(["rollback", "rollback"]);
    expect(rollouts[1]).toMatchObject({ toRevision: one, state: "rolled-out" });
    expect(new Set(rollouts.map((r) => r.toRevision))).toContain(two);

    // An unknown revision is refused and changes nothing.
    const unknown = await p.run("rollback", "web", "--to", "abcdef");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/never had a revision "abcdef"/);
    expect(unknown.stderr).toMatch(/baton history web/);
  });
});
