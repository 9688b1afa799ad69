/**
 * Policy per environment and privileged settings, through the built CLI and the API as a
 * user and a script reach them: a prod rule refuses the definition at its line and nothing
 * is applied, while dev runs the same file; the Docker socket, root and SYS_ADMIN need
 * `allowPrivileged: true` with or without a policy.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, Project, type StatusJson, TEST_APP } from "../helpers/cli.js";

let project: Project | undefined;
afterEach(async () => {
  if (project !== undefined) {
    await project.run("down", "--env", "prod");
    await project.run("down", "--env", "dev");
    await project.cleanup();
  }
  project = undefined;
});

/** web runs 1 replica without readiness; prod's policy wants 2 and a readiness probe. */
function definition(port: number, prodPort: number, prodOverride = ""): string {
  return `apps:
  web:
    command: ["${process.execPath}", "${TEST_APP}"]
    port: ${port}
environments:
  dev: { state: .baton-dev }
  prod:
    state: .baton-prod
    overrides:
      apps:
        web:
          port: ${prodPort}${prodOverride}
    policy:
      apps: { requireReadiness: true, minReplicas: 2 }
`;
}

const COMPLIANT = `
          replicas: 2
          health: { readiness: { http: /healthz, interval: 200ms } }`;

async function status(p: Project, env: string): Promise<StatusJson> {
  return JSON.parse((await p.ok("status", "--env", env, "--json")).stdout) as StatusJson;
}

describe("an environment's policy", () => {
  it("refuses a prod violation at its line with nothing applied; the same definition runs in dev", async () => {
    const [port, prodPort] = [await freePort(), await freePort()];
    const p = new Project(definition(port, prodPort));
    project = p;

    const validate = await p.run("validate", "--env", "prod");
    expect(validate.code).toBe(1);
    expect(validate.stderr).toContain(
      "error[spec.policy_violation] apps.web.replicas is 1, prod's policy requires minReplicas: 2 (policy at baton.yaml:14:39)",
    );
    expect(validate.stderr).toContain(
      "error[spec.policy_violation] apps.web has no health.readiness, prod's policy requires requireReadiness (policy at baton.yaml:14:15)",
    );
    expect(validate.stderr).toContain("--> baton.yaml:2:3");
    expect(validate.stderr).toContain("hint: set `replicas: 2` or more");
    // Without --env every environment is held to its own policy.
    expect((await p.run("validate")).code).toBe(1);

    for (const command of ["plan", "up"]) {
      const refused = await p.run(
        command,
        "--env",
        "prod",
        ...(command === "up" ? ["--detach"] : []),
      );
      expect(refused.code, command).toBe(1);
      expect(refused.stderr, command).toContain("prod's policy requires minReplicas: 2");
    }
    expect(await status(p, "prod")).toEqual({ controller: null, apps: [] });

    expect((await p.ok("validate", "--env", "dev")).stdout).toContain("is valid");
    await p.ok("up", "--env", "dev", "--detach");
    await p.ok("wait", "--env", "dev", "--timeout", "60s");
    const dev = await status(p, "dev");
    expect(dev.apps.find((a) => a.name === "web")?.replicas).toHaveLength(1);
  }, 120_000);

  it("refuses a violating apply on a running prod controller, by the CLI and the API, changing nothing", async () => {
    const [port, prodPort] = [await freePort(), await freePort()];
    const p = new Project(definition(port, prodPort, COMPLIANT));
    project = p;
    await p.ok("up", "--env", "prod", "--detach");
    await p.ok("wait", "--env", "prod", "--timeout", "60s");
    const before = await status(p, "prod");
    expect(before.apps[0]?.desired).toBe(2);

    // An edit drops prod to one replica: the line of the override is named.
    p.write(
      "baton.yaml",
      definition(port, prodPort, COMPLIANT.replace("replicas: 2", "replicas: 1")),
    );
    const apply = await p.run("apply", "--env", "prod");
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain(
      "error[spec.policy_violation] apps.web.replicas is 1, prod's policy requires minReplicas: 2 (policy at baton.yaml:16:39)",
    );
    expect(apply.stderr).toContain("--> baton.yaml:13:21");

    // A script that skips the CLI meets the same rule.
    const token = readFileSync(join(p.dir, ".baton-prod", "api-token"), "utf8").trim();
    const answer = await fetch(`${before.controller.api}/api/v1/apply`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        file: p.path("baton.yaml"),
        source: readFileSync(p.path("baton.yaml"), "utf8"),
        environment: "prod",
        folders: {},
        files: {},
      }),
    });
    expect(answer.status).toBe(422);
    const body = (await answer.json()) as {
      error: { code: string; diagnostics: { code: string; path: string; message: string }[] };
    };
    expect(body.error.code).toBe("spec.invalid");
    expect(body.error.diagnostics).toContainEqual(
      expect.objectContaining({ code: "spec.policy_violation", path: "apps.web.replicas" }),
    );

    const after = await status(p, "prod");
    expect(after.controller.definition).toEqual(before.controller.definition);
    expect(after.apps[0]?.desired).toBe(2);
    expect(after.apps[0]?.replicas.map((r) => r.id).sort()).toEqual(
      before.apps[0]?.replicas.map((r) => r.id).sort(),
    );
  }, 120_000);
});

describe("privileged settings (audit: a definition could take the host with no warning)", () => {
  it("need allowPrivileged: true, policy or not: each is an error at its line", async () => {
    const dangerous = `apps:
  agent:
    runtime: docker
    image: shop/agent:1
    user: "0:0"
    capabilities: [SYS_ADMIN]
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
      - /:/host:ro
      - ../../outside:/data
`;
    const p = new Project(dangerous);
    project = p;
    const result = await p.run("validate");
    expect(result.code).toBe(1);
    const lines = result.stderr
      .split("\n")
      .filter((l) => l.startsWith("error[") || l.includes("-->"))
      .map((l) => l.trim());
    expect(lines).toEqual([
      "error[spec.privileged] apps.agent.user is 0:0: replicas would run as root",
      "--> baton.yaml:5:11",
      "error[spec.privileged] apps.agent.capabilities[0] SYS_ADMIN lifts the container's isolation from the host",
      "--> baton.yaml:6:20",
      "error[spec.privileged] apps.agent.volumes[0] /var/run/docker.sock is the Docker socket, which gives root on the host",
      "--> baton.yaml:8:9",
      "error[spec.privileged] apps.agent.volumes[1] / is the host's whole filesystem",
      "--> baton.yaml:9:9",
      expect.stringMatching(
        /^error\[spec\.privileged\] apps\.agent\.volumes\[2\] \.\.\/\.\.\/outside leaves the project folder/,
      ),
      "--> baton.yaml:10:9",
    ]);
    expect(result.stderr).toContain(
      "hint: if apps.agent must have it, add `allowPrivileged: true` to it; otherwise remove the setting",
    );
    expect((await p.run("plan")).code).toBe(1);

    p.write("baton.yaml", dangerous.replace("  agent:\n", "  agent:\n    allowPrivileged: true\n"));
    expect((await p.ok("validate")).stdout).toContain("is valid");
  });
});
