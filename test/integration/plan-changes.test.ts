import { afterEach, describe, expect, it } from "vitest";
import { freePort, Project } from "../helpers/cli.js";
import { get } from "../helpers/http.js";
import { eventually, processAlive } from "../helpers/wait.js";

let project: Project | undefined;
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
});

/** Answers with its greeting and the first line of its config file, on any path. */
const SERVER = `
const http = require("node:http");
const fs = require("node:fs");
const config = fs.readFileSync("config.txt", "utf8").trim();
http
  .createServer((req, res) => res.end(process.env.GREETING + " " + config + "\\n"))
  .listen(Number(process.env.PORT), "127.0.0.1");
`;

function definition(port: number, app: { greeting: string; token: string; ready: string }) {
  return `apps:
  web:
    command: ["node", "server.cjs"]
    cwd: site
    port: ${port}
    env:
      GREETING: ${app.greeting}
      API_TOKEN: ${app.token}
    health:
      readiness: { http: ${app.ready}, interval: 200ms }
`;
}

interface PlanJson {
  steps: { id: string; type: string; changes: { field: string; from: unknown; to: unknown }[] }[];
}

/** The lines printed under app/web's replace step: what changed, one line each. */
function changeLines(stdout: string): string[] {
  const lines = stdout.split("\n");
  const at = lines.findIndex((line) => /± replace\s+app\/web\s/.test(line));
  if (at < 0) throw new Error(`no replace of app/web in:\n${stdout}`);
  const below = lines.slice(at + 1);
  const end = below.findIndex((line) => !line.startsWith("      "));
  return below.slice(0, end < 0 ? below.length : end).map((line) => line.trim());
}

async function webChanges(p: Project): Promise<PlanJson["steps"][number]["changes"]> {
  const plan = JSON.parse((await p.ok("plan", "--json")).stdout) as PlanJson;
  const step = plan.steps.find((s) => s.id === "app/web");
  expect(step?.type).toBe("replace");
  return step?.changes ?? [];
}

describe("baton plan says what changed in an app", () => {
  it("lists an env value, a file of the app folder and the readiness path, with and without a controller", async () => {
    const port = await freePort();
    project = new Project(
      definition(port, { greeting: "hi", token: "tok-one-1", ready: "/healthz" }),
      {
        "site/server.cjs": SERVER,
        "site/config.txt": "first\n",
      },
    );
    const p = project;
    await p.ok("up", "--detach");
    await p.ok("wait", "--timeout", "30s");
    expect((await get(port)).body).toBe("hi first\n");

    // Through the running controller.
    p.write(
      "baton.yaml",
      definition(port, { greeting: "hello", token: "tok-one-1", ready: "/ready" }),
    );
    p.write("site/config.txt", "second\n");
    expect(changeLines((await p.ok("plan")).stdout)).toEqual([
      'env.GREETING: "hi" → "hello"',
      'health.readiness.http: "/healthz" → "/ready"',
      "file config.txt: modified",
    ]);
    expect(await webChanges(p)).toEqual([
      { field: "env.GREETING", from: '"hi"', to: '"hello"' },
      { field: "health.readiness.http", from: '"/healthz"', to: '"/ready"' },
      { field: "file config.txt", from: "modified", to: "modified" },
    ]);
    const applied = await p.ok("apply", "--wait", "--timeout", "30s");
    expect(changeLines(applied.stdout)).toEqual([
      'env.GREETING: "hi" → "hello"',
      'health.readiness.http: "/healthz" → "/ready"',
      "file config.txt: modified",
    ]);
    expect((await get(port)).body).toBe("hello second\n");
    expect((await p.ok("plan")).stdout).toContain("No changes");

    // With no controller: the replicas run on, and the CLI plans from the state directory.
    const pid = (await p.status()).controller.pid;
    process.kill(pid, "SIGKILL");
    await eventually(
      "the controller is gone",
      () => processAlive(pid),
      (alive) => !alive,
    );
    p.write(
      "baton.yaml",
      definition(port, { greeting: "hey", token: "tok-one-1", ready: "/healthz" }),
    );
    p.write("site/config.txt", "third\n");
    expect(changeLines((await p.ok("plan")).stdout)).toEqual([
      'env.GREETING: "hello" → "hey"',
      'health.readiness.http: "/ready" → "/healthz"',
      "file config.txt: modified",
    ]);
    expect(await webChanges(p)).toHaveLength(3);

    // A secret's value is never shown; files are named, their content never.
    p.write(
      "baton.yaml",
      definition(port, { greeting: "hey", token: "tok-two-2", ready: "/healthz" }),
    );
    p.write("site/notes.txt", "a new file\n");
    const masked = await p.ok("plan");
    expect(changeLines(masked.stdout)).toEqual([
      'env.GREETING: "hello" → "hey"',
      "env.API_TOKEN: (secret, changed)",
      'health.readiness.http: "/ready" → "/healthz"',
      "file config.txt: modified",
      "file notes.txt: added",
    ]);
    const json = (await p.ok("plan", "--json")).stdout;
    expect(masked.stdout + json).not.toMatch(/tok-|third|a new file/);
  });
});
