/**
 * Ordering between resources, through the CLI with real processes: an app waits for the apps
 * of its `dependsOn` to be ready, and `baton apply` configures the hosts before any app moves.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, Project, type StatusJson, TEST_APP } from "../helpers/cli.js";
import { eventually } from "../helpers/wait.js";

let project: Project | undefined;
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
});

interface EventJson {
  id: number;
  type: string;
  app: string | null;
  replica: string | null;
  data: Record<string, unknown>;
}

const appOf = (status: StatusJson, name: string) => status.apps.find((a) => a.name === name)!;

/**
 * `web` first in the file: without dependsOn it would start at once, beside `db`. The
 * readiness files are no part of either app's revision (`ignore`).
 */
function definition(ports: { web: number; db: number }, readyDir: string, greeting = "hello") {
  return `apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    port: ${ports.web}
    dependsOn: [db]
    ignore: [ready/]
  db:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    port: ${ports.db}
    ignore: [ready/]
    env: { READY_DIR: ${JSON.stringify(readyDir)}, GREETING: ${greeting} }
    health:
      readiness: { http: /healthz, interval: 200ms, timeout: 1s }
    update: { healthyDeadline: 2m }
`;
}

describe("dependsOn", () => {
  it("starts no replica of web until db is ready; a rollout of db leaves web running", async () => {
    const ports = { web: await freePort(), db: await freePort() };
    project = new Project("");
    const p = project;
    const readyDir = p.path("ready");
    mkdirSync(readyDir);
    p.write("baton.yaml", definition(ports, readyDir));
    await p.ok("up", "--detach");

    const held = await eventually(
      "db runs, not ready, and web waits for it",
      () => p.status(),
      (s) =>
        appOf(s, "db").replicas.some((r) => r.pid !== null) && appOf(s, "web").state === "waiting",
    );
    expect(appOf(held, "db").ready).toBe(0);
    expect(appOf(held, "web")).toMatchObject({ ready: 0, detail: "waiting for db", replicas: [] });
    expect((await p.ok("status")).stdout).toContain("web: no replicas (waiting for db)");
    // Waiting is on its way, not a failure: `baton wait` keeps waiting until its deadline.
    const wait = await p.run("wait", "--timeout", "1s");
    expect(wait.code).toBe(1);
    expect(wait.stderr).toContain("error[wait.timeout] not converged after 1s");
    expect(wait.stderr).toContain("web 0/1 waiting (waiting for db)");

    const dbReplica = appOf(held, "db").replicas[0]!.id;
    writeFileSync(join(readyDir, dbReplica), "");
    await p.ok("wait", "--timeout", "30s");
    const converged = await p.status();
    expect(appOf(converged, "web")).toMatchObject({ state: "converged", ready: 1 });
    expect(appOf(converged, "web").detail).toBeUndefined();
    const webReplica = appOf(converged, "web").replicas[0]!.id;

    const events = async () =>
      ((await p.api("/api/v1/events?limit=1000")) as { events: EventJson[] }).events;
    const first = (list: EventJson[], type: string, app: string) =>
      list.find((e) => e.type === type && e.app === app)?.id ?? Number.POSITIVE_INFINITY;
    const log = await events();
    const waiting = first(log, "app.waiting", "web");
    const dbReady = first(log, "replica.ready", "db");
    const webStarted = first(log, "replica.started", "web");
    expect(log.find((e) => e.id === waiting)?.data).toEqual({ dependencies: ["db"] });
    expect(waiting).toBeLessThan(dbReady);
    expect(dbReady).toBeLessThan(webStarted);
    expect(webStarted).toBeLessThan(Number.POSITIVE_INFINITY);

    // db rolls out a revision that is not ready yet: web keeps its replica, and a new
    // replica of web waits for db's new revision, not the one it replaces.
    p.write("baton.yaml", definition(ports, readyDir, "hi"));
    await p.ok("apply");
    await eventually(
      "db's new replica runs beside the old one",
      () => p.status(),
      (s) => appOf(s, "db").replicas.filter((r) => r.pid !== null).length === 2,
    );
    await p.ok("scale", "web", "2");
    const rolling = await eventually(
      "web's second replica waits for db's new revision",
      () => p.status(),
      (s) => appOf(s, "web").state === "waiting" && appOf(s, "web").desired === 2,
    );
    expect(appOf(rolling, "web")).toMatchObject({ ready: 1, detail: "waiting for db" });
    expect(appOf(rolling, "web").replicas.map((r) => [r.id, r.state])).toEqual([
      [webReplica, "ready"],
    ]);

    writeFileSync(join(readyDir, "all"), "");
    await p.ok("wait", "--timeout", "30s");
    const done = await p.status();
    expect(appOf(done, "db").revision).not.toBe(appOf(converged, "db").revision);
    expect(appOf(done, "web").replicas.map((r) => r.id)).toContain(webReplica);
    expect(appOf(done, "web").ready).toBe(2);
    const stopped = (await events()).filter((e) => e.app === "web" && e.type.endsWith("stopped"));
    expect(stopped).toEqual([]);
  }, 120_000);

  it("is planned in order, and a cycle is refused at its line by validate and up, changing nothing", async () => {
    const ports = { web: await freePort(), db: await freePort() };
    project = new Project("");
    const p = project;
    const readyDir = p.path("ready");
    mkdirSync(readyDir);
    writeFileSync(join(readyDir, "all"), "");
    const good = definition(ports, readyDir);
    const cycle = good.replace(
      "    update: { healthyDeadline: 2m }\n",
      "    update: { healthyDeadline: 2m }\n    dependsOn: [web]\n",
    );
    const refusal = [
      "error[spec.dependency_cycle] apps.db.dependsOn[0] closes the dependency cycle web → db → web: each of these apps waits for the next to be ready, so none of them could ever start",
      "  --> baton.yaml:15:17",
      "   |",
      "15 |     dependsOn: [web]",
      "   |                 ^^^",
      "  hint: remove one of these dependencies: `db` from apps.web.dependsOn or `web` from apps.db.dependsOn",
    ].join("\n");

    p.write("baton.yaml", cycle);
    const validate = await p.run("validate");
    expect(validate.code).toBe(1);
    expect(validate.stderr).toContain(refusal);
    const up = await p.run("up", "--detach");
    expect(up.code).toBe(1);
    expect(up.stderr).toContain(refusal);
    expect(existsSync(p.stateDir)).toBe(false);

    p.write("baton.yaml", good);
    const plan = JSON.parse((await p.ok("plan", "--json")).stdout) as {
      steps: { id: string; type: string; after: string[] }[];
    };
    expect(plan.steps.map((s) => [s.id, s.type, s.after])).toEqual([
      ["app/web", "create", ["app/db"]],
      ["app/db", "create", []],
    ]);

    await p.ok("up", "--detach");
    await p.ok("wait", "--timeout", "30s");
    const before = await p.status();
    p.write("baton.yaml", cycle);
    const again = await p.run("up");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(refusal);
    const after = await p.status();
    expect(after.controller.definition).toEqual(before.controller.definition);
    expect(after.apps.map((a) => [a.name, a.replicas.map((r) => r.id)])).toEqual(
      before.apps.map((a) => [a.name, a.replicas.map((r) => r.id)]),
    );
  }, 90_000);
});

describe("hosts and apps", () => {
  it("are applied hosts first: an app's new replica starts after the host pass", async () => {
    const port = await freePort();
    project = new Project("");
    const p = project;
    const conf = p.path("host/app.conf");
    const definition = (version: string) => `hosts:
  here: { connection: local }
configure:
  all:
    - directory: { path: ${p.path("host")} }
    - file: { path: ${conf}, content: "${version}\\n" }
apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    port: ${port}
    ignore: [host/]
    env: { GREETING: ${version} }
`;
    p.write("baton.yaml", definition("one"));
    await p.ok("up", "--detach");
    await p.ok("apply", "--wait", "--timeout", "30s");
    expect(readFileSync(conf, "utf8")).toBe("one\n");

    p.write("baton.yaml", definition("two"));
    const applied = JSON.parse((await p.ok("apply", "--json")).stdout) as {
      generation: { id: number };
      hosts: { host: string; ok: boolean; changed: { id: string }[] }[];
    };
    expect(applied.hosts.map((h) => [h.host, h.ok, h.changed.map((c) => c.id)])).toEqual([
      ["here", true, [conf]],
    ]);
    await p.ok("wait", "--timeout", "30s");
    const revision = appOf(await p.status(), "web").revision;
    const { events } = (await p.api("/api/v1/events?limit=1000")) as { events: EventJson[] };
    const since = events.filter(
      (e) => e.type === "definition.applied" && e.data.generation === applied.generation.id,
    )[0]!.id;
    const hostApplied = events.find((e) => e.id > since && e.type === "host.applied")?.id;
    const started = events.find(
      (e) => e.type === "replica.started" && e.app === "web" && e.data.revision === revision,
    )?.id;
    expect(hostApplied).toBeDefined();
    expect(started).toBeDefined();
    expect(hostApplied!).toBeLessThan(started!);
  }, 90_000);
});
