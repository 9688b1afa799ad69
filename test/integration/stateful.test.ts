import { execFileSync } from "node:child_process";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, Project, ROOT, type StatusJson, TEST_APP } from "../helpers/cli.js";
import { get } from "../helpers/http.js";
import { initCluster, type PostgresCluster } from "../helpers/postgres.js";
import { identityIfAlive, processGroup, processTree } from "../helpers/process-identity.js";
import { eventually } from "../helpers/wait.js";

const PG_API = join(ROOT, "test", "fixtures", "apps", "pg-api.cjs");

let project: Project | undefined;
let cluster: PostgresCluster | undefined;
afterEach(async () => {
  // `baton down` stops the database before its data folder goes.
  await project?.cleanup();
  project = undefined;
  cluster?.remove();
  cluster = undefined;
});

const app = (s: StatusJson, name: string) => s.apps.find((a) => a.name === name)!;

interface Ports {
  readonly db: number;
  readonly api: number;
}

/**
 * One PostgreSQL replica on its data folder, fronted by Baton's TCP proxy, and an API app
 * reaching it through that proxy. `workMem` is the database's revision; `update` its policy.
 */
function definition(pg: PostgresCluster, ports: Ports, workMem: string, update = ""): string {
  const server = [
    join(pg.bin, "postgres"),
    "-D",
    pg.data,
    "-p",
    "${PORT}",
    "-k",
    pg.sockets,
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    `work_mem=${workMem}`,
  ];
  return `apps:
  db:
    command: ${JSON.stringify(server)}
    user: postgres
    cwd: db
    port: ${ports.db}
    protocol: tcp
    health:
      readiness: { exec: ${JSON.stringify([join(pg.bin, "pg_isready"), "-q", "-h", "127.0.0.1", "-p", "${PORT}"])}, interval: 200ms }
${update}  api:
    command: ["node", ${JSON.stringify(PG_API)}]
    cwd: api
    port: ${ports.api}
    env: { DB_PORT: "${ports.db}", PSQL: ${JSON.stringify(join(pg.bin, "psql"))} }
`;
}

async function startedDatabase(): Promise<{ p: Project; pg: PostgresCluster; ports: Ports }> {
  cluster = initCluster();
  const ports = { db: await freePort(), api: await freePort() };
  project = new Project(definition(cluster, ports, "4MB"), {
    "db/README": "PostgreSQL runs from here; its data folder is elsewhere.\n",
    "api/README": "The API app.\n",
  });
  // The postgres user passes through the project folder to its snapshot (mkdtemp made it 0700).
  chmodSync(project.dir, 0o711);
  await project.ok("up", "--detach");
  await project.ok("wait", "--timeout", "60s");
  return { p: project, pg: cluster, ports };
}

/** The API answers from the database: a visit counted, and the server's work_mem. */
async function visit(port: number): Promise<string> {
  const answer = await get(port);
  if (answer.status !== 200) throw new Error(`API answered ${answer.status}: ${answer.body}`);
  return answer.body.trim();
}

describe("a stateful app: one PostgreSQL replica on its data folder", () => {
  it("runs Debian's PostgreSQL with `user: postgres`, no wrapper: every process of its replica has that uid", async () => {
    const { p } = await startedDatabase();
    const postgres = {
      uid: Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" })),
      gid: Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" })),
      groups: execFileSync("id", ["-G", "postgres"], { encoding: "utf8" })
        .trim()
        .split(" ")
        .map(Number),
    };
    const leader = app(await p.status(), "db").replicas[0]?.pid ?? 0;
    expect(processGroup(leader)).toContain(leader);
    // The postmaster's workers (checkpointer, walwriter, autovacuum…) each call setsid(),
    // leaving its process group: the postmaster's whole tree is checked.
    const tree = await eventually(
      "the postmaster has forked its background workers",
      () => processTree(leader),
      (pids) => pids.length >= 4,
    );
    const checked: number[] = [];
    for (const pid of new Set([...processGroup(leader), ...tree])) {
      const identity = identityIfAlive(pid);
      if (identity === undefined) continue;
      checked.push(pid);
      expect(identity.uids, `process ${pid}`).toEqual(Array(4).fill(postgres.uid));
      expect(identity.gids, `process ${pid}`).toEqual(Array(4).fill(postgres.gid));
      // initgroups: the supplementary groups of the user (ssl-cert on Debian), no more.
      expect([...identity.groups].sort(), `process ${pid}`).toEqual([...postgres.groups].sort());
    }
    expect(checked.length).toBeGreaterThanOrEqual(4);
  });

  it("fails the default rolling update on the data folder's lock; `strategy: recreate` rolls it out", async () => {
    const { p, pg, ports } = await startedDatabase();
    expect(await visit(ports.api)).toBe("visits=1 work_mem=4MB");
    const before = app(await p.status(), "db").revision;

    // Rolling (maxSurge 1): the new server starts beside the old one and finds its lock.
    p.write("baton.yaml", definition(pg, ports, "8MB"));
    const rolling = await p.run("apply", "--wait", "--timeout", "60s");
    expect(rolling.code, rolling.stdout + rolling.stderr).toBe(1);
    expect(rolling.stderr).toMatch(/revision \w+ failed and was rolled back to/);
    expect(rolling.stderr).toMatch(/lock file "postmaster\.pid" already exists/);
    expect(rolling.stderr).toMatch(/hint: .*update: \{ strategy: recreate \}/);
    expect(app(await p.status(), "db")).toMatchObject({ state: "rolled-back", revision: before });
    expect(await visit(ports.api)).toBe("visits=2 work_mem=4MB");
    const status = await p.run("rollout", "status", "db", "--no-watch");
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(/strategy: recreate/);

    // The user's fix, and nothing else: the revision that failed is tried again.
    p.write("baton.yaml", definition(pg, ports, "8MB", "    update: { strategy: recreate }\n"));
    const recreate = await p.run("apply", "--wait", "--timeout", "60s");
    expect(recreate.code, recreate.stdout + recreate.stderr).toBe(0);
    const db = app(await p.status(), "db");
    expect(db).toMatchObject({ state: "converged", ready: 1 });
    expect(db.revision).not.toBe(before);
    // The same data folder: the visits counted before are still there.
    expect(await visit(ports.api)).toBe("visits=3 work_mem=8MB");

    // The journal: the old server was gone before the new one started.
    const rollout = JSON.parse((await p.ok("rollout", "status", "db", "--json")).stdout) as {
      rollout: { state: string };
      steps: { action: string; replica: string | null }[];
    };
    expect(rollout.rollout.state).toBe("rolled-out");
    const stopped = rollout.steps.findIndex((s) => s.action === "stopped");
    const started = rollout.steps.findIndex((s) => s.action === "started");
    expect(stopped).toBeGreaterThanOrEqual(0);
    expect(started).toBeGreaterThan(stopped);
  });
});

describe("a revision marked bad is tried again", () => {
  it("when the update policy changes: maxSurge 0, maxUnavailable 1 rolls the database out", async () => {
    const { p, pg, ports } = await startedDatabase();
    expect(await visit(ports.api)).toBe("visits=1 work_mem=4MB");
    p.write("baton.yaml", definition(pg, ports, "8MB"));
    expect((await p.run("apply", "--wait", "--timeout", "60s")).code).toBe(1);

    // The issue's own attempt: stop one before starting one. The plan says it is a rollout.
    const fix = "    update: { maxSurge: 0, maxUnavailable: 1 }\n";
    p.write("baton.yaml", definition(pg, ports, "8MB", fix));
    expect((await p.ok("plan")).stdout).toMatch(/replace\s+app\/db/);
    const applied = await p.run("apply", "--wait", "--timeout", "60s");
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(await visit(ports.api)).toBe("visits=2 work_mem=8MB");
    const { rollouts } = JSON.parse((await p.ok("history", "db", "--json")).stdout) as {
      rollouts: { state: string; toRevision: string }[];
    };
    expect(rollouts.map((r) => r.state)).toEqual(["rolled-out", "rolled-back", "rolled-out"]);
    expect(rollouts[0]?.toRevision).toBe(rollouts[1]?.toRevision);
  });

  it("when its healthy deadline changes", async () => {
    const { p, port } = await startedWeb("GREETING: v1");
    const slow = "GREETING: v2, READY_AFTER_MS: 5000";
    p.write("baton.yaml", webDefinition(port, slow, "1s"));
    const failed = await p.run("apply", "--wait", "--timeout", "60s");
    expect(failed.code, failed.stdout + failed.stderr).toBe(1);
    expect(failed.stderr).toMatch(/was not ready within 1s/);
    // A slow start, no lock: nothing suggests the recreate strategy.
    expect(failed.stderr).not.toMatch(/strategy: recreate/);

    p.write("baton.yaml", webDefinition(port, slow, "30s"));
    await p.ok("apply", "--wait", "--timeout", "60s");
    expect((await get(port)).body).toMatch(/^v2 from web-/);
  });

  it("by hand with `baton rollout retry`, once what it lacked is there", async () => {
    const { p, port } = await startedWeb("GREETING: v1");
    const nothing = await p.run("rollout", "retry", "web");
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(
      /error\[rollout\.not_blocked\] web runs its definition's revision \w+/,
    );

    // Ready only once ready/all exists: a dependency that is not there yet.
    const env = `GREETING: v2, READY_DIR: ${p.path("ready")}`;
    p.write("baton.yaml", webDefinition(port, env, "1500ms"));
    expect((await p.run("apply", "--wait", "--timeout", "60s")).code).toBe(1);
    expect((await get(port)).body).toMatch(/^v1 from web-/);

    p.write("ready/all", "");
    const retried = await p.run("rollout", "retry", "web", "--wait", "--timeout", "60s");
    expect(retried.code, retried.stdout + retried.stderr).toBe(0);
    expect(retried.stdout).toMatch(/retrying web: \w+ → \w+ \(rollout \d+\)/);
    expect(retried.stdout).toMatch(/rollout \d+ of web rolled out/);
    expect((await get(port)).body).toMatch(/^v2 from web-/);
    const again = await p.run("rollout", "retry", "web", "--json");
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/rollout\.not_blocked/);

    await p.ok("down");
    const offline = await p.run("rollout", "retry", "web");
    expect(offline.code).toBe(1);
    expect(offline.stderr).toMatch(/no controller/i);
  });
});

function webDefinition(port: number, env: string, healthyDeadline: string): string {
  return `apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    replicas: 2
    port: ${port}
    ignore: [ready/]
    env: { ${env} }
    health:
      readiness: { http: /healthz, interval: 200ms }
    update: { healthyDeadline: ${healthyDeadline} }
`;
}

async function startedWeb(env: string): Promise<{ p: Project; port: number }> {
  const port = await freePort();
  project = new Project(webDefinition(port, env, "20s"));
  await project.ok("up", "--detach");
  await project.ok("wait", "--timeout", "30s");
  return { p: project, port };
}
