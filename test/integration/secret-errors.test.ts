/**
 * Issue 19: definition errors printed the source line, so a bad webhook URL with its token was
 * echoed by `baton validate` and by the API's 422. Errors still point at the line and column,
 * but the line shown masks every value that holds a secret, and no message names one.
 */
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, Project, TEST_APP } from "../helpers/cli.js";

let project: Project | undefined;
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
});

const TOKEN = "xoxb-4242-SECRETTOKEN";
const FILE_SECRET = "hunter2-in-a-host-file";
const PASSWORD = "db-pass-31337";

/** A definition whose every error sits on a line holding a secret. */
const BAD = `apps:
  web:
    command: ["node", "server.js"]
    env: { DB_PASSWORD: ${PASSWORD}, PLAIN: [1] }
hosts:
  web1: { address: 127.0.0.1 }
configure:
  web1:
    - file: { path: /etc/app/token, content: "${FILE_SECRET}", secret: true, mode: 999 }
notifiers:
  ops:
    webhook: hooks.example.invalid/services/T000/B000/${TOKEN}
  team:
    slack: 4242
alerts:
  - { name: errors, expr: "up > 0", notify: [ops, team] }
`;

function expectNoSecret(text: string): void {
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain("4242");
  expect(text).not.toContain(FILE_SECRET);
  expect(text).not.toContain(PASSWORD);
}

describe("definition errors on fields that hold secrets", () => {
  it("are reported by validate at their line without the secret", async () => {
    project = new Project(BAD);
    const result = await project.run("validate");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "error[spec.invalid_url] notifiers.ops.webhook is not an http:// or https:// URL",
    );
    expect(result.stderr).toContain("--> baton.yaml:12:14");
    expect(result.stderr).toMatch(/12 \| {5}webhook: \*+\n/);
    expect(result.stderr).toContain(
      "notifiers.team.slack must be an http(s) URL, found (secret, not shown)",
    );
    expect(result.stderr).toContain("error[spec.invalid_mode] configure.web1[0].file.mode");
    expect(result.stderr).toContain("error[spec.invalid_type] apps.web.env.PLAIN");
    expectNoSecret(result.stdout + result.stderr);
  });

  it("are answered by the API's 422 without the secret", async () => {
    const port = await freePort();
    project = new Project(`apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    port: ${port}
`);
    const p = project;
    await p.ok("up", "--detach");
    await p.ok("wait");
    const { controller } = await p.status();
    const token = readFileSync(`${p.stateDir}/api-token`, "utf8").trim();
    const answer = await fetch(`${controller.api}/api/v1/apply`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ file: p.path("baton.yaml"), source: BAD }),
    });
    expect(answer.status).toBe(422);
    const text = await answer.text();
    const body = JSON.parse(text) as {
      error: { code: string; message: string; diagnostics: { path: string; found?: string }[] };
    };
    expect(body.error.code).toBe("spec.invalid");
    const paths = body.error.diagnostics.map((d) => d.path);
    expect(paths).toContain("notifiers.ops.webhook");
    expect(paths).toContain("notifiers.team.slack");
    expect(body.error.diagnostics.find((d) => d.path === "notifiers.team.slack")?.found).toBe(
      "(secret, not shown)",
    );
    expect(body.error.message).toContain("--> baton.yaml:12:14");
    expectNoSecret(text);
  });
});
