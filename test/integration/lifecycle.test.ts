import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { processesUsingState } from "../../src/runtime/process/index.js";
import { freePort, Project, type StatusJson, TEST_APP } from "../helpers/cli.js";
import { get } from "../helpers/http.js";
import { Load } from "../helpers/load.js";
import { eventually, processAlive } from "../helpers/wait.js";

let project: Project | undefined;
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
});

const web = (s: StatusJson) => s.apps.find((a) => a.name === "web")!;
const definition = (port: number) => `apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    replicas: 2
    port: ${port}
    health:
      readiness: { http: /healthz, interval: 500ms }
  worker:
    command: "exec sleep 1000"
    replicas: 1
`;

/** Every process whose environment or command line names the project's folder. */
function processesOf(dir: string): string[] {
  const out = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" });
  const found: string[] = [];
  for (const line of out.split("\n")) {
    const match = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (match && match[2]!.includes(dir) && !match[2]!.startsWith("ps ")) found.push(line.trim());
  }
  return found;
}

describe("controller lifecycle", () => {
  it("down stops the controller, the proxy and every replica", async () => {
    const port = await freePort();
    project = new Project(definition(port));
    await project.ok("up", "--detach");
    await project.ok("wait");
    const status = await project.status();
    const pids = [
      status.controller.pid,
      status.controller.proxyPid!,
      ...status.apps.flatMap((a) => a.replicas.map((r) => r.pid!)),
    ];
    expect(pids).toHaveLength(5);
    expect(pids.every(processAlive)).toBe(true);

    const down = await project.ok("down");
    expect(down.stdout).toContain("stopped");
    expect(pids.filter(processAlive)).toEqual([]);
    // Nothing else of the project either; a helper process may take a moment to exit
    // (seen once in CI), so this waits with a deadline and shows what still runs.
    await eventually(
      "no process names the project's folder",
      () => processesOf(project!.dir),
      (left) => left.length === 0,
      5_000,
    );
    // No controller runs and no app of it: status, answered from the state, says so.
    const after = JSON.parse((await project.ok("status", "--json")).stdout) as {
      controller: unknown;
      apps: unknown[];
    };
    expect(after).toEqual({ controller: null, apps: [] });
    // The controller ended cleanly (an engine that is no swarm manager has nothing to remove).
    const log = readFileSync(join(project.stateDir, "logs", "controller.log"), "utf8");
    expect(log).toContain("controller.down");
    expect(log).not.toMatch(/^\s+at /m);
  });

  it("keeps serving while the controller is killed and restarted, and adopts its replicas", async () => {
    const port = await freePort();
    project = new Project(definition(port));
    await project.ok("up", "--detach");
    await project.ok("wait");
    const before = await project.status();
    const load = new Load(port, 4, 60_000);
    await eventually(
      "load flows",
      () => load.counts.ok,
      (n) => n > 50,
    );

    process.kill(before.controller.pid, "SIGKILL");
    await eventually(
      "the controller is gone",
      () => processAlive(before.controller.pid),
      (alive) => !alive,
    );
    const during = load.counts.ok;
    await eventually(
      "requests are still served with no controller",
      () => load.counts.ok,
      (n) => n > during + 200,
    );

    await project.ok("up", "--detach");
    await project.ok("wait");
    const report = await load.stop();
    expect(report.failed, report.errors.join("\n")).toBe(0);

    const after = await project.status();
    expect(after.controller.pid).not.toBe(before.controller.pid);
    expect(after.controller.proxyPid).toBe(before.controller.proxyPid);
    // Adopted, not duplicated: the very same replica processes.
    const ids = (s: StatusJson) =>
      s.apps.flatMap((a) => a.replicas.map((r) => `${r.id}:${r.pid}`)).sort();
    expect(ids(after)).toEqual(ids(before));
    expect(web(after).ready).toBe(2);
  });

  it("heals a replica that died while no controller ran", async () => {
    const port = await freePort();
    project = new Project(definition(port));
    await project.ok("up", "--detach");
    await project.ok("wait");
    const before = await project.status();
    process.kill(before.controller.pid, "SIGKILL");
    const victim = web(before).replicas[0]!;
    process.kill(victim.pid!, "SIGKILL");
    await eventually(
      "the replica is gone",
      () => processAlive(victim.pid!),
      (alive) => !alive,
    );
    await project.ok("up", "--detach");
    await project.ok("wait");
    const after = web(await project.status());
    expect(after.ready).toBe(2);
    expect(after.replicas.map((r) => r.id)).not.toContain(victim.id);
  });
});

describe("the proxy", () => {
  it("is started again by the controller when it dies, with the current pool", async () => {
    const port = await freePort();
    project = new Project(definition(port));
    await project.ok("up", "--detach");
    await project.ok("wait");
    const before = await project.status();
    process.kill(before.controller.proxyPid!, "SIGKILL");
    const after = await eventually(
      "a new proxy runs",
      () => project!.status(),
      (s) => s.controller.proxyPid !== null && s.controller.proxyPid !== before.controller.proxyPid,
    );
    expect(processAlive(after.controller.proxyPid!)).toBe(true);
    const answer = await eventually(
      "the new proxy serves the app",
      () => get(port),
      (a) => a.status === 200,
    );
    expect(answer.body).toMatch(/^hello from web-/);
  });

  it("that is alive but does not answer is never doubled, and is replaced once it is hung", async () => {
    const port = await freePort();
    project = new Project(definition(port));
    const p = project;
    await p.ok("up", "--detach");
    await p.ok("wait");
    const stuck = (await p.status()).controller.proxyPid!;
    const proxies = () =>
      processesUsingState(p.stateDir)
        .filter((u) => u.what === "the proxy")
        .map((u) => u.pid);
    // SIGSTOP: alive, holding its ports, answering nothing — as a proxy stuck in a long GC.
    process.kill(stuck, "SIGSTOP");
    try {
      // A few missed health checks later there is still one proxy, the stopped one.
      const since = Date.now();
      await eventually(
        "3 s have passed",
        () => Date.now() - since,
        (ms) => ms > 3_000,
      );
      expect(proxies()).toEqual([stuck]);
      // Ten missed checks: it is hung. Killed and replaced, it serves again.
      const replaced = await eventually(
        "a new proxy replaced the hung one",
        () => proxies(),
        (pids) => pids.length === 1 && pids[0] !== stuck,
        30_000,
      );
      expect(processAlive(stuck)).toBe(false);
      const answer = await eventually(
        "the new proxy serves",
        () => get(port),
        (a) => a.status === 200,
      );
      expect(answer.body).toMatch(/^hello from web-/);
      expect((await p.status()).controller.proxyPid).toBe(replaced[0]);
    } finally {
      if (processAlive(stuck)) process.kill(stuck, "SIGCONT");
    }
  });
});
