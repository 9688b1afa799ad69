import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, Project, type StatusJson, TEST_APP } from "../helpers/cli.js";
import { docker, ensureDocker, nodeBaseImage, removeTestContainers } from "../helpers/docker.js";
import { git } from "../helpers/git.js";
import { type AuthRegistry, startAuthRegistry } from "../helpers/registry.js";
import { filesHolding, setSecret } from "../helpers/secrets.js";
import { eventually } from "../helpers/wait.js";

await ensureDocker();
const base = await nodeBaseImage();

const keys = mkdtempSync(join(tmpdir(), "baton-keys-"));
process.env.BATON_AGE_KEY_FILE = join(keys, "default.age");

const RUN = randomBytes(4).toString("hex");
const PROJECT = `regauth-${RUN}`;
const PASSWORD = `reg-${randomBytes(12).toString("hex")}`;

let registry: AuthRegistry | undefined;
let project: Project | undefined;
afterAll(async () => {
  if (project !== undefined) {
    await project.cleanup();
    await removeTestContainers(`baton.state=${project.stateDir}`);
  }
  const images = (await docker(["images", "-q", "--filter", `label=baton.test.run=${RUN}`]))
    .split("\n")
    .filter(Boolean);
  for (const id of new Set(images)) await docker(["rmi", "-f", id]).catch(() => undefined);
  await registry?.stop();
  rmSync(keys, { recursive: true, force: true });
});

function definition(registryField: string, port: number): string {
  return `project: ${PROJECT}
${registryField}
apps:
  api:
    build:
      context: ./api
      labels: { baton.test.run: "${RUN}" }
    command: ["${process.execPath}", "/app/app.cjs"]
    env: { HOST: 0.0.0.0 }
    containerPort: 8080
    port: ${port}
    health:
      readiness: { http: /healthz, interval: 200ms }
`;
}

describe("registry: { url, username, password: { secret } }", () => {
  it("pushes and pulls with the login an anonymous push is refused without; the password leaks nowhere", async () => {
    registry = await startAuthRegistry("baton", PASSWORD);
    const address = registry.address;
    const port = await freePort();
    project = new Project(definition(`registry: ${address}`, port), {
      "api/Dockerfile": `FROM ${base}\nCOPY . /app\n`,
      "api/app.cjs": readFileSync(TEST_APP, "utf8"),
    });
    const p = project;
    git(p.dir, "init", "-q");
    git(p.dir, "add", "-A");
    git(p.dir, "commit", "-q", "-m", "v1");

    // Without a login, the registry refuses the push and the hint says how to give one.
    const anonymous = await p.run("build", "api");
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toMatch(/push\.failed/);
    expect(anonymous.stderr).toContain("registry: { url:");
    expect(await registry.tags(`${PROJECT}/api`)).toEqual([]);

    setSecret(p, "registry-password", PASSWORD);
    p.write(
      "baton.yaml",
      definition(
        `registry: { url: "${address}", username: baton, password: { secret: registry-password } }`,
        port,
      ),
    );
    const built = await p.ok("build", "api");
    const releases = JSON.parse((await p.ok("releases", "api", "--json")).stdout) as {
      releases: { version: string; digest: string }[];
    };
    const release = releases.releases[0]!;
    expect(await registry.tags(`${PROJECT}/api`)).toContain(release.version);

    // Gone from the engine: `up` pulls it back from the registry with the login.
    await docker(["rmi", "-f", `${address}/${PROJECT}/api:${release.version}`]);
    await expect(
      docker(["image", "inspect", `${address}/${PROJECT}/api@${release.digest}`]),
    ).rejects.toThrow();
    const up = await p.ok("up", "--detach");
    await eventually(
      "api runs its release",
      () => p.status(),
      (s: StatusJson) => s.apps.some((a) => a.name === "api" && a.ready === 1),
      60_000,
    );
    const events = JSON.stringify(await p.api("/api/v1/events"));
    expect(events).toContain(`pulled ${address}/${PROJECT}/api@${release.digest}`);

    const outputs = [anonymous.stdout, anonymous.stderr, built.stdout, built.stderr];
    outputs.push(up.stdout, up.stderr, events);
    for (const args of [
      ["status", "--json"],
      ["plan", "--json"],
      ["releases", "api", "--json"],
    ]) {
      const out = await p.run(...args);
      outputs.push(out.stdout, out.stderr);
    }
    expect(filesHolding(p.stateDir, PASSWORD)).toEqual([]);
    expect(outputs.filter((o) => o.includes(PASSWORD))).toEqual([]);
  });
});
