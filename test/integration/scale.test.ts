import { afterEach, describe, expect, it } from "vitest";
import { freePort, Project, type StatusJson, TEST_APP } from "../helpers/cli.js";
import { get } from "../helpers/http.js";
import { eventually, processAlive } from "../helpers/wait.js";

let project: Project | undefined;
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
});

const web = (s: StatusJson) => s.apps.find((a) => a.name === "web")!;
const definition = (port: number, replicas: number) => `apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    replicas: ${replicas}
    port: ${port}
`;

describe("scaling", () => {
  it("converges up and down with baton scale, then with a changed replicas", async () => {
    const port = await freePort();
    project = new Project(definition(port, 1));
    await project.ok("up", "--detach");
    await project.ok("wait");
    const original = web(await project.status()).replicas[0]!;

    await project.ok("scale", "web", "3");
    await project.ok("wait");
    let app = web(await project.status());
    expect(app.ready).toBe(3);
    expect(app.replicas.map((r) => r.id)).toContain(original.id);
    // Scaling never replaces: the revision is the same.
    expect(new Set(app.replicas.map((r) => r.revision))).toEqual(new Set([original.revision]));

    const before = app.replicas.map((r) => r.pid!);
    await project.ok("scale", "web", "1");
    await project.ok("wait");
    app = web(await project.status());
    expect(app.replicas).toHaveLength(1);
    await eventually(
      "the stopped replicas' processes are gone",
      () => before.filter(processAlive).length,
      (n) => n === 1,
    );

    project.write("baton.yaml", definition(port, 2));
    const applied = await project.ok("apply", "--wait");
    expect(applied.stdout).toContain("scale");
    expect(web(await project.status()).ready).toBe(2);
  });

  it("plans without changing anything", async () => {
    const port = await freePort();
    project = new Project(definition(port, 2));
    const plan = await project.ok("plan");
    expect(plan.stdout).toContain("create");
    expect(plan.stdout).toContain("app/web");
    await project.ok("up", "--detach");
    await project.ok("wait");
    const same = await project.ok("plan");
    expect(same.stdout).toContain("No changes");
    project.write("baton.yaml", definition(port, 4));
    const scaled = await project.ok("plan");
    expect(scaled.stdout).toMatch(/scale\s+app\/web\s+2 → 4 replicas/);
    expect(web(await project.status()).desired).toBe(2);

    // A new public port changes the proxy, not the replicas.
    const moved = await freePort();
    project.write("baton.yaml", definition(moved, 2));
    expect((await project.ok("plan")).stdout).toMatch(
      new RegExp(`reconfigure\\s+app/web\\s+port ${port} → ${moved}`),
    );
    const before = web(await project.status())
      .replicas.map((r) => r.id)
      .sort();
    await project.ok("apply", "--wait");
    expect((await get(moved)).status).toBe(200);
    expect(
      web(await project.status())
        .replicas.map((r) => r.id)
        .sort(),
    ).toEqual(before);
  });
});
