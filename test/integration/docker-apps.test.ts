import { dirname } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, Project, type StatusJson, TEST_APP } from "../helpers/cli.js";
import { docker, ensureDocker, nodeBaseImage, removeTestContainers } from "../helpers/docker.js";
import { get } from "../helpers/http.js";
import { Load } from "../helpers/load.js";
import { eventually, processAlive } from "../helpers/wait.js";

// The real engine, or a failure that says what to install: never a skipped suite.
await ensureDocker();
const image = await nodeBaseImage();

let project: Project | undefined;
let load: Load | undefined;
afterEach(async () => {
  await load?.stop();
  load = undefined;
  if (project !== undefined) {
    await project.cleanup();
    await removeTestContainers(`baton.state=${project.stateDir}`);
  }
  project = undefined;
});

function definition(port: number, greeting: string): string {
  return `apps:
  web:
    runtime: docker
    image: ${image}
    command: ["${process.execPath}", "/app/${TEST_APP.split("/").at(-1)}"]
    volumes: ["${dirname(TEST_APP)}:/app:ro"]
    containerPort: 8080
    env: { HOST: 0.0.0.0, GREETING: ${greeting} }
    replicas: 2
    port: ${port}
    health:
      readiness: { http: /healthz, interval: 200ms }
`;
}

const web = (s: StatusJson) => s.apps.find((a) => a.name === "web")!;

async function containersOf(p: Project): Promise<string[][]> {
  const out = await docker([
    "ps",
    "--filter",
    `label=baton.state=${p.stateDir}`,
    "--format",
    '{{.Label "baton.project"}} {{.Label "baton.app"}} {{.Label "baton.revision"}} {{.Label "baton.replica"}} {{.Ports}}',
  ]);
  return out
    .trim()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split(" "));
}

describe("an app with runtime: docker", () => {
  it("runs as labelled containers behind the proxy, heals, and rolls out without a failed request", async () => {
    const port = await freePort();
    project = new Project(definition(port, "v1"));
    const p = project;
    await p.ok("up", "--detach");
    await p.ok("wait", "--timeout", "60s");
    expect((await get(port)).body).toMatch(/^v1 from web-/);
    const app = web(await p.status());
    const rows = await containersOf(p);
    expect(rows.map((r) => r[3]).sort()).toEqual(app.replicas.map((r) => r.id).sort());
    for (const row of rows) {
      expect(row.slice(1, 3)).toEqual(["web", app.revision]);
      // Published on loopback only, at the replica's port.
      expect(row[4]).toMatch(/^127\.0\.0\.1:\d+->8080\/tcp$/);
    }

    // status --json names each replica's container and the image it runs, by digest.
    const imageId = (await docker(["image", "inspect", "--format", "{{.Id}}", image])).trim();
    for (const replica of app.replicas) {
      expect(replica).toMatchObject({ runtime: "docker", image: imageId });
      // The engine's stats: a running node process uses some CPU time and memory.
      expect(replica.memoryBytes).toBeGreaterThan(1024 * 1024);
      expect(replica.cpuSeconds).toBeGreaterThan(0);
      const inspected = await docker(["inspect", "--format", "{{.Id}}", replica.container!]);
      expect(inspected.trim()).toBe(replica.container);
      // The app's `logs:` limits (default 10Mi × 5) are the engine's log rotation.
      const logConfig = await docker([
        "inspect",
        "--format",
        "{{json .HostConfig.LogConfig}}",
        replica.container!,
      ]);
      expect(JSON.parse(logConfig)).toEqual({
        Type: "json-file",
        Config: { "max-size": String(10 * 1024 * 1024), "max-file": "5" },
      });
    }

    // `docker kill` is a manual stop for Docker's restart policy: Baton heals it itself.
    const victim = app.replicas[0]!;
    await docker(["kill", await containerName(p, victim.id)]);
    await eventually(
      "a new container replaces the killed one",
      async () => web(await p.status()),
      (a) => a.ready === 2 && !a.replicas.some((r) => r.id === victim.id),
      30_000,
    );
    // The killed replica's output stays readable while the engine keeps its container.
    expect((await p.ok("logs", "web")).stdout).not.toContain(victim.id);
    expect((await p.ok("logs", "web", "--all")).stdout).toContain(`${victim.id}`);

    load = new Load(port, 4, 60_000);
    await eventually(
      "load flows",
      () => load!.counts.ok,
      (ok) => ok > 20,
    );
    p.write("baton.yaml", definition(port, "v2"));
    await p.ok("apply", "--wait", "--timeout", "90s");
    const report = await load.stop();
    load = undefined;
    expect(report.failed, report.errors.join("\n")).toBe(0);
    expect((await get(port)).body).toMatch(/^v2 from web-/);
    const after = web(await p.status());
    expect((await containersOf(p)).map((r) => r[3]).sort()).toEqual(
      after.replicas.map((r) => r.id).sort(),
    );

    const logs = await p.ok("logs", "web");
    expect(logs.stdout).toMatch(/listening on 8080/);

    // A controller killed outright: the containers serve on; `up` adopts them by label.
    const pid = (await p.status()).controller.pid;
    process.kill(pid, "SIGKILL");
    await eventually(
      "the controller is gone",
      () => processAlive(pid),
      (alive) => !alive,
    );
    expect((await get(port)).body).toMatch(/^v2 from web-/);
    expect((await p.ok("plan")).stdout).toMatch(/No changes/);
    await p.ok("up", "--detach");
    await p.ok("wait", "--timeout", "30s");
    const adopted = web(await p.status());
    expect(adopted.replicas.map((r) => r.container).sort()).toEqual(
      after.replicas.map((r) => r.container).sort(),
    );
  });
});

describe("baton down after the controller was killed", () => {
  it("stops the containers it left, and only those of its state directory", async () => {
    const port = await freePort();
    project = new Project(definition(port, "v1"));
    const p = project;
    // A container of another state directory: `down` must leave it alone.
    const other = `baton.state=${p.stateDir}-other`;
    const stranger = (await docker(["run", "-d", "--label", other, image, "sleep", "300"])).trim();
    try {
      await p.ok("up", "--detach");
      await p.ok("wait", "--timeout", "60s");
      const replicas = web(await p.status()).replicas;
      expect(await containersOf(p)).toHaveLength(2);
      const pid = (await p.status()).controller.pid;
      process.kill(pid, "SIGKILL");
      await eventually(
        "the controller is gone",
        () => processAlive(pid),
        (alive) => !alive,
      );
      expect(await containersOf(p)).toHaveLength(2);

      expect((await p.ok("down")).stdout).toBe("stopped: controller, proxy and replicas\n");
      expect(await containersOf(p)).toEqual([]);
      expect((await p.ok("down")).stdout).toBe("nothing was running\n");
      // As after any `baton down`, the exited containers keep their output for --all.
      const all = (await p.ok("logs", "web", "--all")).stdout;
      for (const r of replicas) expect(all).toContain(`${r.id} listening on 8080`);
      expect((await docker(["inspect", "--format", "{{.State.Running}}", stranger])).trim()).toBe(
        "true",
      );
    } finally {
      await removeTestContainers(other);
    }
  });
});

describe("a container app's logs.maxAge", () => {
  it("hides older output from readers and removes exited containers past it", async () => {
    const port = await freePort();
    project = new Project(
      definition(port, "v1")
        .replace("replicas: 2", "replicas: 1")
        .replace("    port:", "    logs: { maxAge: 4s }\n    port:"),
    );
    const p = project;
    await p.ok("up", "--detach");
    await p.ok("wait", "--timeout", "60s");
    const first = web(await p.status()).replicas[0]!;
    expect(
      (
        await docker([
          "inspect",
          "--format",
          '{{index .Config.Labels "baton.logs.max-age"}}',
          first.container!,
        ])
      ).trim(),
    ).toBe("4000");
    expect((await p.ok("logs", "web")).stdout).toMatch(/listening on 8080/);
    // The engine keeps the line (it rotates by size only); every reader through Baton stops
    // seeing it once it is older than maxAge.
    await eventually(
      "the start-up line ages out of `baton logs`",
      async () => (await p.ok("logs", "web")).stdout,
      (out) => !out.includes("listening on 8080"),
      30_000,
    );
    expect(await docker(["logs", first.container!])).toMatch(/listening on 8080/);

    // An exited container stays for `baton logs --all`, until it is older than maxAge.
    await docker(["kill", first.container!]);
    await eventually(
      "a new container replaces the killed one",
      async () => web(await p.status()),
      (a) => a.ready === 1 && a.replicas[0]!.id !== first.id,
      30_000,
    );
    const kept = async () =>
      (
        await docker([
          "ps",
          "-a",
          "--filter",
          `label=baton.replica=${first.id}`,
          "--format",
          "{{.ID}}",
        ])
      ).trim();
    expect(await kept()).not.toBe("");
    await eventually(
      "the exited container is removed past maxAge",
      kept,
      (ids) => ids === "",
      30_000,
    );
    expect((await p.ok("logs", "web", "--all")).stdout).not.toContain(first.id);
  });
});

describe("an exec health check of a container app", () => {
  it("runs inside the container, where the app's files are", async () => {
    const port = await freePort();
    // /app exists only inside the container (a bind mount): on this machine the check fails.
    project = new Project(
      definition(port, "v1").replace(
        "readiness: { http: /healthz, interval: 200ms }",
        'readiness: { exec: ["/bin/sh", "-c", "test -f /app/app.cjs"], interval: 200ms }',
      ),
    );
    const p = project;
    await p.ok("up", "--detach");
    await p.ok("wait", "--timeout", "60s");
    expect(web(await p.status()).ready).toBe(2);
    expect((await get(port)).body).toMatch(/^v1 from web-/);
  });
});

describe("a container over its memory limit", () => {
  it("is reported as killed out of memory and replaced", async () => {
    // Grows by 8 MB every 20 ms: well past 64Mi within a second.
    const hog = `apps:
  hog:
    runtime: docker
    image: ${image}
    command: ["${process.execPath}", "-e", "const a = []; setInterval(() => a.push(Buffer.alloc(8e6, 1)), 20)"]
    resources: { memory: 64Mi }
`;
    project = new Project(hog);
    const p = project;
    await p.ok("up", "--detach");
    const exits = await eventually(
      "an out-of-memory exit is reported",
      async () =>
        (
          (await p.api("/api/v1/events?app=hog&limit=500")) as {
            events: { type: string; message: string; data: { oom?: boolean } }[];
          }
        ).events.filter((e) => e.type === "replica.exited"),
      (events) => events.some((e) => e.data.oom === true),
      60_000,
    );
    const oom = exits.find((e) => e.data.oom === true);
    expect(oom?.message).toMatch(/killed: out of memory \(limit 67108864 bytes\); replacing it/);
  });
});

/** The container of a replica, found by its labels as an operator would. */
async function containerName(p: Project, replica: string): Promise<string> {
  const out = await docker([
    "ps",
    "--filter",
    `label=baton.replica=${replica}`,
    "--filter",
    `label=baton.state=${p.stateDir}`,
    "--format",
    "{{.Names}}",
  ]);
  return out.trim();
}
