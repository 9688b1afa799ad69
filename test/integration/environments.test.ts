import { dirname } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, Project, type StatusJson, TEST_APP } from "../helpers/cli.js";
import { docker, ensureDocker, nodeBaseImage, removeTestContainers } from "../helpers/docker.js";
import { get } from "../helpers/http.js";
import { eventually } from "../helpers/wait.js";

// The real engine, or a failure that says what to install: never a skipped suite.
await ensureDocker();
const image = await nodeBaseImage();

let project: Project | undefined;
afterEach(async () => {
  if (project !== undefined) {
    await project.cleanup();
    await removeTestContainers(`baton.state=${project.stateDir}`);
  }
  project = undefined;
});

/** One app, run as processes in dev and as two containers in prod. */
function definition(port: number): string {
  return `apps:
  web:
    command: ["${process.execPath}", "${TEST_APP}"]
    env: { GREETING: hello-dev }
    port: ${port}
    image: ${image}
    health:
      readiness: { http: /healthz, interval: 200ms }
environments:
  dev: { runtime: process }
  prod:
    runtime: docker
    overrides:
      apps:
        web:
          replicas: 2
          command: ["${process.execPath}", "/app/${TEST_APP.split("/").at(-1)}"]
          volumes: ["${dirname(TEST_APP)}:/app:ro"]
          env: { GREETING: hello-prod, HOST: 0.0.0.0 }
`;
}

type EnvStatus = StatusJson & { controller: { definition: { environment: string | null } } };
const web = (s: StatusJson) => s.apps.find((a) => a.name === "web")!;

describe("environments", () => {
  it("runs the environment chosen with --env, records it, and refuses to switch under running replicas", async () => {
    const port = await freePort();
    project = new Project(definition(port));
    const p = project;

    // Several environments and none chosen yet: the user must say which.
    const unchosen = await p.run("up", "--detach");
    expect(unchosen.code).toBe(2);
    expect(unchosen.stderr).toContain("error[cli.environment_required]");
    expect(unchosen.stderr).toContain("dev, prod");

    const unknown = await p.run("plan", "--env", "prd");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("error[spec.unknown_environment]");
    expect(unknown.stderr).toContain("did you mean `--env prod`?");

    expect((await p.ok("plan", "--env", "prod")).stdout).toMatch(/\+ create\s+app\/web/);

    await p.ok("up", "--env", "dev", "--detach");
    await p.ok("wait", "--timeout", "60s");
    const dev = (await p.status()) as EnvStatus;
    expect(dev.controller.definition.environment).toBe("dev");
    expect(web(dev).replicas.map((r) => r.runtime)).toEqual(["process"]);
    expect((await get(port)).body).toMatch(/^hello-dev from web-/);

    // The state remembers dev: a plain `apply` keeps it.
    const again = await p.ok("apply");
    expect(again.stdout).toContain("unchanged since generation 1");

    // prod over dev's running replicas: refused, nothing changed.
    const switched = await p.run("apply", "--env", "prod");
    expect(switched.code).toBe(1);
    expect(switched.stderr).toContain("error[state.environment_mismatch]");
    expect(switched.stderr).toContain("runs environment dev");
    expect(switched.stderr).toContain("--env dev");
    expect(web(await p.status()).replicas.map((r) => r.runtime)).toEqual(["process"]);

    // Once nothing runs, the state directory may serve prod.
    await p.ok("down");
    await p.ok("up", "--env", "prod", "--detach");
    await p.ok("wait", "--timeout", "60s");
    const prod = (await p.status()) as EnvStatus;
    expect(prod.controller.definition.environment).toBe("prod");
    expect(web(prod).replicas.map((r) => r.runtime)).toEqual(["docker", "docker"]);
    await eventually(
      "prod answers through the proxy",
      () => get(port).then((r) => r.body),
      (body) => /^hello-prod from web-/.test(body),
    );
    const labelled = await docker(["ps", "-q", "--filter", `label=baton.state=${p.stateDir}`]);
    expect(labelled.trim().split("\n")).toHaveLength(2);
    expect((await p.ok("status")).stdout).toContain("environment prod");
  });

  it("points an invalid override at its own line and names the environment", async () => {
    const port = await freePort();
    project = new Project(definition(port).replace("replicas: 2", "replicas: two"));
    const result = await project.run("validate");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("apps.web.replicas must be a whole number");
    expect(result.stderr).toContain("(in environment prod)");
    expect(result.stderr).toMatch(/--> baton\.yaml:16:21/);
    expect(result.stderr).toContain("16 |           replicas: two");
  });
});
