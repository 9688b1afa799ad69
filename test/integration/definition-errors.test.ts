import { afterEach, describe, expect, it } from "vitest";
import { freePort, Project, TEST_APP } from "../helpers/cli.js";

let project: Project | undefined;
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
});

describe("bad definitions", () => {
  it("are refused by validate with the file, line, column, field and a hint", async () => {
    project = new Project(`apps:
  web:
    command: ["node", "server.js"]
    replicas: "three"
`);
    const result = await project.run("validate");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error[spec.invalid_type] apps.web.replicas");
    expect(result.stderr).toContain("--> baton.yaml:4:15");
    expect(result.stderr).toContain('4 |     replicas: "three"');
    expect(result.stderr).toContain("hint:");
    expect(result.stdout).toBe("");
  });

  it("start nothing with up", async () => {
    project = new Project("apps:\n  web:\n    command: []\n    replicas: 2\n");
    const result = await project.run("up", "--detach");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("apps.web.command");
    // No controller, nothing running: status says so.
    const status = JSON.parse((await project.ok("status", "--json")).stdout) as {
      controller: unknown;
      apps: unknown[];
    };
    expect(status).toEqual({ controller: null, apps: [] });
  });

  it("are refused by apply against a running controller, which changes nothing", async () => {
    const port = await freePort();
    const good = `apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    replicas: 2
    port: ${port}
`;
    project = new Project(good);
    await project.ok("up", "--detach");
    await project.ok("wait");
    const before = await project.status();

    project.write("baton.yaml", good.replace("replicas: 2", "replicas: 5\n    colour: blue"));
    const result = await project.run("apply");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error[spec.unknown_key] apps.web.colour");
    expect(result.stderr).toContain("--> baton.yaml:5:5");

    // Through the API too, in case a script skips the CLI.
    const token = (await import("node:fs"))
      .readFileSync(`${project.stateDir}/api-token`, "utf8")
      .trim();
    const answer = await fetch(`${before.controller.api}/api/v1/apply`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        file: project.path("baton.yaml"),
        source: "apps:\n  web: { replicas: -1 }\n",
      }),
    });
    expect(answer.status).toBe(422);
    const body = (await answer.json()) as {
      error: { code: string; diagnostics: { path: string }[] };
    };
    expect(body.error.code).toBe("spec.invalid");
    expect(body.error.diagnostics.map((d) => d.path)).toContain("apps.web.replicas");

    const after = await project.status();
    expect(after.controller.definition).toEqual(before.controller.definition);
    expect(after.apps[0]!.desired).toBe(2);
    expect(after.apps[0]!.replicas.map((r) => r.id).sort()).toEqual(
      before.apps[0]!.replicas.map((r) => r.id).sort(),
    );
  });
});
