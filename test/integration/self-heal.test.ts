import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, Project, type StatusJson, TEST_APP } from "../helpers/cli.js";
import { get } from "../helpers/http.js";
import { eventually } from "../helpers/wait.js";

let project: Project | undefined;
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
});

function definition(port: number, extra = "", env = ""): string {
  return `apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    replicas: 2
    port: ${port}
    env: { GREETING: hi${env} }
    health:
      readiness: { http: /healthz, interval: 1s, timeout: 1s }
${extra}`;
}

const web = (s: StatusJson) => s.apps.find((a) => a.name === "web")!;

describe("self-healing", () => {
  it("replaces a replica killed with SIGKILL and keeps serving through the proxy", async () => {
    const port = await freePort();
    project = new Project(definition(port));
    await project.ok("up", "--detach");
    await project.ok("wait", "--timeout", "30s");
    const before = web(await project.status());
    expect(before.ready).toBe(2);
    const victim = before.replicas[0]!;
    process.kill(victim.pid!, "SIGKILL");

    const after = await eventually(
      "a new replica replaces the killed one and is ready",
      async () => web(await project!.status()),
      (app) => app.ready === 2 && !app.replicas.some((r) => r.id === victim.id),
    );
    expect(after.replicas.map((r) => r.restarts).sort()).toEqual([0, 1]);
    expect((await get(port)).body).toMatch(/^hi from web-/);
  });

  it("backs off a crash loop exponentially and shows it as crash-loop", async () => {
    const port = await freePort();
    project = new Project(
      definition(
        port,
        "    restart: { backoff: 200ms, maxBackoff: 800ms, resetAfter: 1m }\n",
        ", CRASH_AFTER_MS: 50",
      ).replace("replicas: 2", "replicas: 1"),
    );
    await project.ok("up", "--detach");
    const status = await eventually(
      "the app is in crash-loop",
      async () => web(await project!.status()),
      (app) => app.state === "crash-loop" && app.replicas.some((r) => r.restarts >= 4),
      30_000,
    );
    expect(status.ready).toBe(0);
    // An exit is counted at once but described (with its last output) a moment later.
    const events = await eventually(
      "five exits are described",
      () => eventsOf(project!, "replica.exited"),
      (e) => e.length >= 5,
    );
    const delays = events.map((e) => e.data.restartInMs as number);
    // First exit: replaced at once; then 200, 400, 800 and capped at 800.
    expect(delays.slice(0, 5)).toEqual([0, 200, 400, 800, 800]);
    // Each exit says why, from the replica's own last words.
    expect(events[0]!.data.lastOutput).toEqual(
      expect.arrayContaining([expect.stringMatching(/crashing on purpose$/)]),
    );
  });

  it("resets the backoff once a replica has run for resetAfter", async () => {
    const port = await freePort();
    project = new Project(
      definition(
        port,
        "    restart: { backoff: 1s, maxBackoff: 1m, resetAfter: 300ms }\n",
        ", CRASH_AFTER_MS: 600",
      ).replace("replicas: 2", "replicas: 1"),
    );
    await project.ok("up", "--detach");
    const events = await eventually(
      "three exits",
      () => eventsOf(project!, "replica.exited"),
      (list) => list.length >= 3,
      30_000,
    );
    // Each replica ran ~600 ms > resetAfter, so every exit is replaced at once.
    expect(events.slice(0, 3).map((e) => e.data.restartInMs)).toEqual([0, 0, 0]);
  });
});

async function eventsOf(
  p: Project,
  type: string,
): Promise<{ type: string; data: Record<string, unknown> }[]> {
  const status = await p.status();
  const token = readFileSync(`${p.stateDir}/api-token`, "utf8").trim();
  const answer = await fetch(`${status.controller.api}/api/v1/events?limit=1000`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await answer.json()) as {
    events: { type: string; data: Record<string, unknown> }[];
  };
  return body.events.filter((e) => e.type === type);
}
