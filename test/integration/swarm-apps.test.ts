import { dirname } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { baton, freePort, Project, type StatusJson, TEST_APP } from "../helpers/cli.js";
import { docker, nodeBaseImage } from "../helpers/docker.js";
import { get } from "../helpers/http.js";
import { Load } from "../helpers/load.js";
import { ensureSwarm, releaseSwarm, removeTestServices } from "../helpers/swarm.js";
import { eventually, processAlive } from "../helpers/wait.js";

// A real single-node swarm on the one engine, or a failure that says what to install.
await ensureSwarm();
const image = await nodeBaseImage();

let project: Project | undefined;
let load: Load | undefined;
afterEach(async () => {
  await load?.stop();
  load = undefined;
  if (project !== undefined) {
    await project.cleanup();
    await removeTestServices(`baton.state=${project.stateDir}`);
  }
  project = undefined;
});
afterAll(() => releaseSwarm());

/**
 * Swarm runs the health check inside the task: busybox's wget asks the app's /healthz
 * (a node one-liner would cost a node start per check).
 */
const HEALTHZ =
  '["/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"]';

function definition(port: number, greeting: string, extra = ""): string {
  return `apps:
  web:
    runtime: swarm
    image: ${image}
    command: ["${process.execPath}", "/app/${TEST_APP.split("/").at(-1)}"]
    volumes: ["${dirname(TEST_APP)}:/app:ro"]
    containerPort: 8080
    env: { HOST: 0.0.0.0, GREETING: ${greeting}${extra} }
    replicas: 2
    port: ${port}
    stopGrace: 3s
    health:
      readiness: { exec: ${HEALTHZ}, interval: 500ms, timeout: 2s }
    update: { healthyDeadline: 4s }
`;
}

const web = (s: StatusJson) => s.apps.find((a) => a.name === "web")!;

interface ServiceView {
  ID: string;
  Spec: {
    Name: string;
    Labels: Record<string, string>;
    Mode: { Replicated: { Replicas: number } };
    TaskTemplate: { LogDriver?: { Name: string; Options?: Record<string, string> } };
  };
}

async function servicesOf(p: Project): Promise<ServiceView[]> {
  const ids = (await docker(["service", "ls", "-q", "--filter", `label=baton.state=${p.stateDir}`]))
    .split("\n")
    .filter(Boolean);
  if (ids.length === 0) return [];
  return JSON.parse(await docker(["service", "inspect", ...ids])) as ServiceView[];
}

async function eventsOf(p: Project, type: string): Promise<{ message: string; data?: unknown }[]> {
  const body = (await p.api("/api/v1/events?app=web&limit=500")) as {
    events: { type: string; message: string; data?: unknown }[];
  };
  return body.events.filter((e) => e.type === type);
}

describe("an app with runtime: swarm", () => {
  it("runs as a labelled Swarm service behind the proxy, heals, rolls out and back, and adopts", async () => {
    const port = await freePort();
    project = new Project(definition(port, "v1"));
    const p = project;
    await p.ok("up", "--detach");
    await slow(p, "wait", "--timeout", "90s");
    expect((await get(port)).body).toMatch(/^v1 from \w+/);

    // One service, with Baton's labels on it and on its tasks' containers.
    const [service, ...others] = await servicesOf(p);
    expect(others).toEqual([]);
    const app = web(await p.status());
    expect(service!.Spec.Labels).toMatchObject({
      "baton.app": "web",
      "baton.revision": app.revision,
    });
    expect(service!.Spec.Labels["baton.project"]).toBeTruthy();
    // The app's `logs:` size limits (default 10Mi × 5) are each task's engine log rotation.
    expect(service!.Spec.TaskTemplate.LogDriver).toEqual({
      Name: "json-file",
      Options: { "max-size": String(10 * 1024 * 1024), "max-file": "5" },
    });
    expect(app.replicas).toHaveLength(2);
    const imageId = (await docker(["image", "inspect", "--format", "{{.Id}}", image])).trim();
    for (const task of app.replicas) {
      expect(task).toMatchObject({ runtime: "swarm", state: "ready", image: imageId });
      expect((task as { node?: string }).node).toBeTruthy();
      const labels = await docker([
        "inspect",
        "--format",
        '{{index .Config.Labels "baton.app"}} {{index .Config.Labels "baton.revision"}}',
        task.container!,
      ]);
      expect(labels.trim()).toBe(`web ${app.revision}`);
    }

    // `docker kill` of a task's container: Swarm replaces the task (not a restart policy).
    const victim = app.replicas[0]!;
    await docker(["kill", await runningContainer(victim.id)]);
    await eventually(
      "a new task replaces the killed one",
      async () => web(await p.status()),
      (a) => a.ready === 2 && !a.replicas.some((r) => r.id === victim.id),
      60_000,
    );
    expect((await get(port)).body).toMatch(/^v1 from /);

    // A new version under light load: Swarm rolls it start-first, no request fails.
    load = new Load(port, 2, 90_000);
    await eventually(
      "load flows",
      () => load!.counts.ok,
      (ok) => ok > 20,
    );
    p.write("baton.yaml", definition(port, "v2"));
    await slow(p, "apply", "--wait", "--timeout", "90s");
    const report = await load.stop();
    load = undefined;
    expect(report.failed, report.errors.join("\n")).toBe(0);
    expect((await get(port)).body).toMatch(/^v2 from /);
    const [rolled] = await servicesOf(p);
    expect(rolled!.ID).toBe(service!.ID);
    const history = (await p.ok("history", "web", "--json")).stdout;
    expect(JSON.parse(history).rollouts[0]).toMatchObject({ state: "rolled-out" });

    // Scaled by hand: reported as drift and set back to the definition's count.
    await docker(["service", "update", "--detach", "--replicas", "4", service!.Spec.Name]);
    await eventually(
      "the hand-made scale is reported",
      () => eventsOf(p, "drift.detected"),
      (events) => events.some((e) => JSON.stringify(e.data).includes("replicas")),
    );
    await eventually(
      "the service is back at 2 replicas",
      async () => (await servicesOf(p))[0]?.Spec.Mode.Replicated.Replicas,
      (replicas) => replicas === 2,
    );

    // Deleted by hand: Baton creates it again.
    await docker(["service", "rm", service!.Spec.Name]);
    await eventually(
      "the service is there again, serving",
      async () => ({ services: await servicesOf(p), app: web(await p.status()) }),
      ({ services, app }) => services.length === 1 && app.ready === 2,
      60_000,
    );
    expect((await get(port)).body).toMatch(/^v2 from /);

    const logs = await p.ok("logs", "web");
    expect(logs.stdout).toMatch(/listening on 8080/);
    // Every task's lines, prefixed by the task, through the same filters as other apps.
    const tasks = new Set(web(await p.status()).replicas.map((r) => r.id));
    const records = (await p.ok("logs", "web", "--grep", "listening", "--json")).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { app: string; replica?: string; line: string; source: string });
    expect(records.length).toBeGreaterThanOrEqual(2);
    for (const r of records) {
      expect(r.app).toBe("web");
      expect(r.line).toMatch(/listening on 8080/);
      expect(r.source).toBe(`web.${r.replica?.slice(0, 12)}`);
    }
    for (const task of tasks) expect(records.map((r) => r.replica)).toContain(task);
    expect((await p.ok("logs", "--grep", "listening")).stdout).toMatch(
      /^web\.\w+ +\| .*listening on 8080/m,
    );

    // The controller killed outright: tasks serve on; `up` adopts the service, no duplicate.
    const before = await servicesOf(p);
    const pid = (await p.status()).controller.pid;
    process.kill(pid, "SIGKILL");
    await eventually(
      "the controller is gone",
      () => processAlive(pid),
      (alive) => !alive,
    );
    expect((await get(port)).body).toMatch(/^v2 from /);
    expect((await p.ok("plan")).stdout).toMatch(/No changes/);
    await p.ok("up", "--detach");
    await slow(p, "wait", "--timeout", "60s");
    const after = await servicesOf(p);
    expect(after.map((s) => s.ID)).toEqual(before.map((s) => s.ID));

    // A version that never becomes healthy: Swarm rolls it back and status says so.
    p.write("baton.yaml", definition(port, "v3", ", UNREADY_FILE: /app/app.cjs"));
    await p.ok("apply");
    const rolledBack = await eventually(
      "Swarm rolls v3 back",
      async () => web(await p.status()),
      (a) => a.state === "rolled-back",
      120_000,
    );
    expect(rolledBack.rollout).toMatchObject({ state: "rolled-back" });
    expect((await get(port)).body).toMatch(/^v2 from /);
    expect((await eventsOf(p, "rollout.rolled_back")).length).toBeGreaterThan(0);

    // `baton scale` sets the service's replicas (of the revision that serves).
    await p.ok("scale", "web", "3");
    await eventually(
      "3 tasks serve",
      async () => ({ services: await servicesOf(p), app: web(await p.status()) }),
      ({ services, app }) => services[0]?.Spec.Mode.Replicated.Replicas === 3 && app.ready === 3,
      60_000,
    );

    // `baton rollback` goes back to the revision before v2 (v1), rolled by Swarm.
    await slow(p, "rollback", "web", "--wait", "--timeout", "120s");
    await eventually(
      "v1 serves again",
      () => get(port).then((r) => r.body),
      (body) => /^v1 from /.test(body),
      60_000,
    );
    const back = JSON.parse((await p.ok("history", "web", "--json")).stdout).rollouts[0];
    expect(back).toMatchObject({ trigger: "rollback", state: "rolled-out" });
    // It holds: a plain apply of the unchanged definition leaves v1 serving.
    await p.ok("apply");
    expect((await get(port)).body).toMatch(/^v1 from /);

    // `baton down` removes the service.
    await p.ok("down");
    await eventually(
      "the service is gone",
      () => servicesOf(p),
      (services) => services.length === 0,
    );
  }, 400_000);

  it("rolls `strategy: recreate` stop-first, and retries a revision Swarm rolled back once the policy changes", async () => {
    const port = await freePort();
    const slowStart = ", READY_AFTER_MS: 10000";
    const recreate = (greeting: string, extra: string, healthyDeadline: string) =>
      definition(port, greeting, extra).replace(
        "update: { healthyDeadline: 4s }",
        `update: { strategy: recreate, healthyDeadline: ${healthyDeadline} }`,
      );
    project = new Project(recreate("v1", "", "4s"));
    const p = project;
    await p.ok("up", "--detach");
    await slow(p, "wait", "--timeout", "90s");

    // Ready only after 10 s, with 2 s allowed: Swarm rolls it back.
    p.write("baton.yaml", recreate("v2", slowStart, "2s"));
    await p.ok("apply");
    await eventually(
      "Swarm rolls v2 back",
      async () => web(await p.status()),
      (a) => a.state === "rolled-back",
      120_000,
    );
    const failed = JSON.parse((await p.ok("rollout", "status", "web", "--json")).stdout) as {
      steps: { detail: string }[];
    };
    expect(failed.steps.map((s) => s.detail).join("\n")).toMatch(/\(stop-first, 2 at a time/);
    expect((await get(port)).body).toMatch(/^v1 from /);

    // The user's fix is the deadline, not the revision: v2 is tried again and rolls out.
    p.write("baton.yaml", recreate("v2", slowStart, "30s"));
    await slow(p, "apply", "--wait", "--timeout", "120s");
    expect((await get(port)).body).toMatch(/^v2 from /);
    const { rollouts } = JSON.parse((await p.ok("history", "web", "--json")).stdout) as {
      rollouts: { state: string; toRevision: string }[];
    };
    expect(rollouts.slice(0, 2).map((r) => r.state)).toEqual(["rolled-out", "rolled-back"]);
    expect(rollouts[0]?.toRevision).toBe(rollouts[1]?.toRevision);
  }, 400_000);
});

/** The container of a task, found by Swarm's own label, as an operator would. */
async function runningContainer(task: string): Promise<string> {
  const out = await docker(["ps", "-q", "--filter", `label=com.docker.swarm.task.id=${task}`]);
  const id = out.trim();
  if (id === "") throw new Error(`task ${task} has no running container`);
  return id;
}

/** A command that waits on Swarm (tasks start one at a time): more than the CLI helper's 60 s. */
async function slow(p: Project, ...args: string[]): Promise<void> {
  const result = await baton(args, { cwd: p.dir, timeoutMs: 150_000 });
  if (result.code !== 0) {
    throw new Error(
      `baton ${args.join(" ")} exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
    );
  }
}
