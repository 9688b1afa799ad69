/**
 * A reconcile pass that fails half-way — at each point of it in turn, every other pass
 * (BATON_TEST_FAIL_PASS) — leaves nothing the next pass cannot converge from: an app still
 * starts, heals a killed replica and rolls a new revision out, with no slot left stuck.
 */
import { afterEach, describe, expect, it } from "vitest";
import { baton, freePort, Project, type StatusJson, TEST_APP } from "../helpers/cli.js";
import { get } from "../helpers/http.js";
import { eventually } from "../helpers/wait.js";

let project: Project | undefined;
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
});

const POINTS = ["observed", "decided", "started", "pooled", "stopped", "tracked"] as const;

function definition(port: number, greeting: string): string {
  return `apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    port: ${port}
    replicas: 2
    env: { GREETING: ${greeting} }
    health:
      readiness: { http: /healthz, interval: 200ms }
`;
}

const web = (s: StatusJson) => s.apps.find((a) => a.name === "web")!;

describe("a pass that fails half-way", () => {
  it.each(POINTS)("at %s: the next pass converges", async (point) => {
    const port = await freePort();
    project = new Project(definition(port, "v1"));
    const p = project;
    const up = await baton(["up", "--detach"], {
      cwd: p.dir,
      env: { BATON_TEST_FAIL_PASS: point },
    });
    expect(up.code, up.stderr).toBe(0);
    await p.ok("wait", "--timeout", "30s");
    const first = web(await p.status());
    expect(first).toMatchObject({ ready: 2, state: "converged" });

    // Healing: a replica killed outside Baton is replaced.
    const victim = first.replicas[0]!;
    process.kill(victim.pid!, "SIGKILL");
    const healed = await eventually(
      "the killed replica is replaced and the app converged again",
      async () => web(await p.status()),
      (app) =>
        app.state === "converged" &&
        app.ready === 2 &&
        app.replicas.every((r) => r.id !== victim.id),
      30_000,
    );
    expect(healed.replicas).toHaveLength(2);

    // A rollout: every replica replaced by the new revision, none left behind.
    p.write("baton.yaml", definition(port, "v2"));
    await p.ok("apply");
    const rolled = await eventually(
      "the new revision serves on every replica",
      async () => web(await p.status()),
      (app) =>
        app.state === "converged" &&
        app.revision !== first.revision &&
        app.replicas.length === 2 &&
        app.replicas.every((r) => r.revision === app.revision && r.state === "ready"),
      30_000,
    );
    expect(rolled.ready).toBe(2);
    expect((await get(port)).body).toMatch(/^v2 from web-/);

    const { events } = (await p.api("/api/v1/events?limit=1000")) as {
      events: { type: string; message: string }[];
    };
    const failures = events.filter((e) => e.type === "reconcile.error");
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]!.message).toContain(`failed at ${point}`);
  });
});
