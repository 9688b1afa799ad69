import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { CLI, freePort, Project, TEST_APP } from "../helpers/cli.js";
import { nodeBaseImage } from "../helpers/docker.js";
import { get } from "../helpers/http.js";
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

function setSecret(p: Project, name: string, value: string): void {
  execFileSync(process.execPath, [CLI, "secret", "set", name], {
    cwd: p.dir,
    input: value,
    env: { ...process.env, NO_COLOR: "1" },
  });
}

function holding(dir: string, needle: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .filter((path) => readFileSync(path).includes(needle));
}

describe("a secret of a swarm app", () => {
  it("reaches its tasks, and a new value rolls the service", async () => {
    const port = await freePort();
    project = new Project(`apps:
  web:
    runtime: swarm
    image: ${image}
    command: ["${process.execPath}", "/app/${TEST_APP.split("/").at(-1)}"]
    volumes: ["${dirname(TEST_APP)}:/app:ro"]
    containerPort: 8080
    env: { HOST: 0.0.0.0, GREETING: { secret: greeting } }
    replicas: 1
    port: ${port}
    stopGrace: 3s
    health:
      readiness: { exec: ${HEALTHZ}, interval: 500ms, timeout: 2s }
    update: { healthyDeadline: 20s }
`);
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
    expect(holding(p.stateDir, first)).toEqual([]);
    expect(holding(p.stateDir, second)).toEqual([]);
  });
});
