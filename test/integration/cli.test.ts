import { readFileSync, statSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { RemoteClient } from "../../src/client/index.js";
import { freePort, Project, TEST_APP } from "../helpers/cli.js";
import { Load } from "../helpers/load.js";
import { eventually } from "../helpers/wait.js";

let project: Project | undefined;
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
});

describe("the CLI", () => {
  it("init writes a starter definition that validates", async () => {
    project = new Project("", {
      "package.json": JSON.stringify({ name: "shop", scripts: { start: "node index.js" } }),
    });
    await project.ok("init", "--force");
    const validated = await project.ok("validate");
    expect(validated.stdout).toMatch(/baton\.yaml is valid: 1 app\(s\)/);
    const again = await project.run("init");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("error[init.exists]");
  });

  it("schema prints a JSON Schema for editors", async () => {
    project = new Project("apps: {}\n");
    const schema = JSON.parse((await project.ok("schema")).stdout) as Record<string, unknown>;
    expect(schema.$schema).toContain("json-schema.org");
    expect(JSON.stringify(schema)).toContain("replicas");
  });

  it("reports a damaged metrics database as the user's to fix, not as a bug", async () => {
    project = new Project("apps: {}\n");
    project.write(".baton/metrics.db", "half of a file a full disk left behind\n");
    const up = await project.run("up");
    expect(up.stderr).toContain("error[metrics.corrupt]");
    expect(up.stderr).toContain("hint: stop the controller and move");
    expect(up.stderr).not.toContain("bug");
    expect(up.code).toBe(1);
  });

  it("status --json answers the API's JSON, behind a token only its owner can read", async () => {
    const port = await freePort();
    project = new Project(`apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    replicas: 2
    port: ${port}
`);
    await project.ok("up", "--detach");
    await project.ok("wait");
    expect(statSync(`${project.stateDir}/api-token`).mode & 0o777).toBe(0o600);
    const status = await project.status();
    expect(status.controller).toMatchObject({
      pid: expect.any(Number),
      api: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    });
    const app = status.apps[0]!;
    expect(app).toMatchObject({ name: "web", desired: 2, ready: 2, revision: expect.any(String) });
    for (const replica of app.replicas) {
      expect(replica).toMatchObject({
        id: expect.any(String),
        pid: expect.any(Number),
        port: expect.any(Number),
        state: "ready",
        ready: true,
        revision: app.revision,
        restarts: 0,
      });
    }
    const unauthenticated = await fetch(`${status.controller.api}/api/v1/status`);
    expect(unauthenticated.status).toBe(401);
    expect(await unauthenticated.json()).toEqual({
      error: {
        code: "api.unauthorized",
        message: expect.stringContaining("bearer token"),
        hint: expect.stringContaining("baton token create"),
      },
    });
    // Each refusal: `{error: {code, message, hint?}}`, its status from the code.
    const token = readFileSync(`${project.stateDir}/api-token`, "utf8").trim();
    const refused = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${status.controller.api}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}` },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    expect(await refused("POST", "/api/v1/apps/nope/scale", { replicas: 1 })).toEqual({
      status: 404,
      body: {
        error: {
          code: "controller.unknown_app",
          message: 'there is no app named "nope"',
          hint: "apps in the definition: web",
        },
      },
    });
    expect(await refused("POST", "/api/v1/apps/web/scale", { replicas: -1 })).toMatchObject({
      status: 400,
      body: { error: { code: "api.invalid_replicas" } },
    });
    expect(await refused("GET", "/api/v1/query?expr=rate(")).toMatchObject({
      status: 400,
      body: {
        error: { code: "expr.syntax", line: 1, column: 6, found: "the end of the expression" },
      },
    });

    // The event stream from now on (`after=latest`, how `deploy --wait` learns a rollout
    // ended): no backlog, then what happens — the scale asked for below comes first.
    const client = new RemoteClient(project.stateDir, status.controller.api, token);
    const seen: string[] = [];
    const listening = new AbortController();
    void (async () => {
      for await (const event of client.events({
        app: "web",
        after: "latest",
        signal: listening.signal,
      })) {
        seen.push(event.type);
      }
    })().catch(() => undefined);
    const stop = (): void => listening.abort();
    try {
      let replicas = 2;
      await eventually(
        "a live event arrives",
        async () => {
          replicas = replicas === 2 ? 3 : 2;
          await project!.ok("scale", "web", String(replicas));
          return seen.length;
        },
        (n) => n > 0,
      );
      expect(seen[0]).toBe("app.scale_requested");
    } finally {
      stop();
    }
  });

  it("drains in-flight requests of a replica before stopping it", async () => {
    const port = await freePort();
    project = new Project(`apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    replicas: 3
    port: ${port}
    stopGrace: 10s
    env: { ABRUPT_TERM: "1" }
`);
    await project.ok("up", "--detach");
    await project.ok("wait");
    // Slow requests spread over every replica, then two replicas leave. The app drops what
    // is in flight on SIGTERM, so only the drain before the stop keeps these requests whole.
    // POST: a proxy may not replay it elsewhere, so a dropped request would be a failure.
    const slow = new Load(port, 6, 20_000, 12, "/slow?ms=1500", "POST");
    await project.ok("scale", "web", "1");
    await project.ok("wait", "--timeout", "30s");
    const report = await slow.stop();
    expect(report.failed, report.errors.join("\n")).toBe(0);
    expect(report.ok).toBeGreaterThanOrEqual(6);
  });
});
