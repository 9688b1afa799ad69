import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { freePort, Project, TEST_APP } from "../helpers/cli.js";
import { docker, nodeBaseImage } from "../helpers/docker.js";
import { get } from "../helpers/http.js";
import { filesHolding, setSecret } from "../helpers/secrets.js";
import { ensureSwarm, releaseSwarm, removeTestServices } from "../helpers/swarm.js";
import { eventually } from "../helpers/wait.js";

await ensureSwarm();
const image = await nodeBaseImage();

const keys = mkdtempSync(join(tmpdir(), "baton-keys-"));
process.env.BATON_AGE_KEY_FILE = join(keys, "default.age");

let project: Project | undefined;
afterEach(async () => {
  if (project !== undefined) {
    await project.cleanup();
    await removeTestServices(`baton.state=${project.stateDir}`);
  }
  project = undefined;
});
afterAll(async () => {
  rmSync(keys, { recursive: true, force: true });
  await releaseSwarm();
});

const HEALTHZ =
  '["/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"]';

/** One swarm app `web` serving the test app on `port`; `secretLines` say how it gets secrets. */
function swarmWeb(port: number, secretLines: string): string {
  return `apps:
  web:
    runtime: swarm
    image: ${image}
    command: ["${process.execPath}", "/app/${TEST_APP.split("/").at(-1)}"]
    volumes: ["${dirname(TEST_APP)}:/app:ro"]
    containerPort: 8080
${secretLines}    replicas: 1
    port: ${port}
    stopGrace: 3s
    health:
      readiness: { exec: ${HEALTHZ}, interval: 500ms, timeout: 2s }
    update: { healthyDeadline: 20s }
`;
}

describe("a secret of a swarm app", () => {
  it("reaches its tasks, and a new value rolls the service", async () => {
    const port = await freePort();
    project = new Project(
      swarmWeb(port, "    env: { HOST: 0.0.0.0, GREETING: { secret: greeting } }\n"),
    );
    const p = project;
    const first = `pw-${randomBytes(12).toString("hex")}`;
    setSecret(p, "greeting", first);
    await p.ok("up", "--detach");
    await p.ok("wait", "--timeout", "90s");
    expect((await get(port)).body).toMatch(new RegExp(`^${first} from `));

    const second = `pw-${randomBytes(12).toString("hex")}`;
    setSecret(p, "greeting", second);
    await p.ok("apply", "--wait", "--timeout", "90s");
    await eventually(
      "the service serves the new value",
      async () => (await get(port)).body,
      (body) => body.startsWith(`${second} from `),
      60_000,
    );
    expect(filesHolding(p.stateDir, first)).toEqual([]);
    expect(filesHolding(p.stateDir, second)).toEqual([]);
  });

  it("are files of its tasks, a new value rolls it, and down leaves no Docker secret", async () => {
    const port = await freePort();
    project = new Project(
      swarmWeb(
        port,
        '    env: { HOST: 0.0.0.0 }\n    files: { /etc/web/db-password: { secret: db-password, mode: "0440" } }\n',
      ),
    );
    const p = project;
    const appSecrets = async () =>
      (
        await docker([
          "secret",
          "ls",
          "-q",
          "--filter",
          `label=baton.state=${p.stateDir}`,
          "--filter",
          "label=baton.app=web",
        ])
      )
        .split("\n")
        .filter(Boolean);
    // What the running task's container finds at the path: mode and content.
    const seen = async (): Promise<string> => {
      const service = (
        await docker([
          "service",
          "ls",
          "--format",
          "{{.Name}}",
          "--filter",
          `label=baton.state=${p.stateDir}`,
        ])
      ).trim();
      const ours = (
        await docker([
          "ps",
          "-q",
          "--filter",
          `label=com.docker.swarm.service.name=${service}`,
          "--filter",
          "status=running",
        ])
      )
        .split("\n")
        .filter(Boolean);
      const out: string[] = [];
      for (const id of ours) {
        try {
          out.push(
            await docker([
              "exec",
              id,
              "/bin/busybox",
              "sh",
              "-c",
              "stat -c %a /etc/web/db-password && cat /etc/web/db-password",
            ]),
          );
        } catch {
          // A task being replaced went away between the two looks.
        }
      }
      return out.join("|");
    };
    const first = `pw-${randomBytes(12).toString("hex")}`;
    setSecret(p, "db-password", first);
    await p.ok("up", "--detach");
    await p.ok("wait", "--timeout", "90s");
    expect(await seen()).toBe(`440\n${first}`);
    expect(await appSecrets()).toHaveLength(1);

    const second = `pw-${randomBytes(12).toString("hex")}`;
    setSecret(p, "db-password", second);
    await p.ok("apply", "--wait", "--timeout", "90s");
    await eventually(
      "the task sees the new value",
      seen,
      (text) => text === `440\n${second}`,
      60_000,
    );
    await eventually(
      "the old value's Docker secret is removed after the rollout",
      appSecrets,
      (ids) => ids.length === 1,
      30_000,
    );
    expect(filesHolding(p.stateDir, first)).toEqual([]);
    expect(filesHolding(p.stateDir, second)).toEqual([]);

    await p.ok("down");
    expect(await appSecrets()).toEqual([]);
  });
});
