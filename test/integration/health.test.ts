import { mkdirSync, writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, Project, type StatusJson, TEST_APP } from "../helpers/cli.js";
import { get } from "../helpers/http.js";
import { eventually } from "../helpers/wait.js";

let project: Project | undefined;
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
});

const web = (s: StatusJson) => s.apps.find((a) => a.name === "web")!;

describe("health checks", () => {
  it("keeps a replica that is not ready out of the proxy's pool", async () => {
    const port = await freePort();
    project = new Project("");
    const readyDir = project.path("ready");
    mkdirSync(readyDir);
    project.write(
      "baton.yaml",
      `apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    replicas: 2
    port: ${port}
    env: { READY_DIR: ${JSON.stringify(readyDir)} }
    health:
      readiness: { http: /healthz, interval: 200ms, timeout: 1s }
`,
    );
    await project.ok("up", "--detach");
    const starting = await eventually(
      "two replicas run, none ready",
      async () => web(await project!.status()),
      (app) => app.replicas.length === 2 && app.replicas.every((r) => r.pid !== null),
    );
    expect(starting.ready).toBe(0);
    const chosen = starting.replicas[0]!.id;
    writeFileSync(`${readyDir}/${chosen}`, "");
    await eventually(
      "one replica is ready",
      async () => web(await project!.status()),
      (app) => app.ready === 1,
    );
    const bodies = new Set<string>();
    for (let i = 0; i < 20; i++) bodies.add((await get(port)).body.trim());
    expect([...bodies]).toEqual([`hello from ${chosen}`]);
  });

  it("restarts a replica that fails its liveness check", async () => {
    const port = await freePort();
    project = new Project(`apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    replicas: 1
    port: ${port}
    health:
      readiness: { http: /healthz, interval: 200ms, timeout: 500ms }
      liveness: { http: /healthz, interval: 200ms, timeout: 300ms, failureThreshold: 2 }
`);
    await project.ok("up", "--detach");
    await project.ok("wait", "--timeout", "30s");
    const first = web(await project.status()).replicas[0]!;
    // Hang the replica's event loop: it stays alive but answers nothing.
    await get(first.port!, "/hang");
    const healed = await eventually(
      "a fresh replica replaces the hung one",
      async () => web(await project!.status()),
      (app) => app.ready === 1 && app.replicas[0]?.id !== first.id,
    );
    expect(healed.replicas[0]!.restarts).toBe(1);
    expect((await get(port)).status).toBe(200);
  });
});
