/**
 * The client contract: the same scenarios asked of the remote client (a running controller)
 * and of the local one (the same state directory once the controller was SIGKILLed, its
 * replicas still serving) get the same answers — status, plan, history, runs, releases, logs —
 * and the same errors. Through the package's own export (`import { connect } from "baton"`).
 */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AppStatus,
  type BatonClient,
  BatonError,
  connect,
  type LogRecord,
} from "../../src/client/index.js";
import { loadDefinition } from "../../src/definition/index.js";
import { freePort, Project, ROOT, TEST_APP } from "../helpers/cli.js";
import { git } from "../helpers/git.js";
import { eventually, processAlive } from "../helpers/wait.js";

let project: Project;
let port: number;

/** What each scenario answered, by client. */
const answers = new Map<string, Map<string, unknown>>();

function definitionText(greeting: string): string {
  return `project: contract
apps:
  web:
    command: ["${process.execPath}", "${TEST_APP}"]
    env: { GREETING: ${greeting} }
    replicas: 2
    port: ${port}
    health:
      readiness: { http: /healthz, interval: 200ms }
pipelines:
  ci:
    source: { repo: . }
    triggers: { poll: false }
    steps:
      - { name: test, run: echo testing }
      - { name: files, build: web }
`;
}

/** The parts of an app's status that do not depend on who looks (a controller or not). */
function comparable(app: AppStatus): unknown {
  return {
    name: app.name,
    revision: app.revision,
    desired: app.desired,
    ready: app.ready,
    port: app.port,
    protocol: app.protocol,
    state: app.state,
    replicas: app.replicas
      .map((r) => ({
        id: r.id,
        pid: r.pid,
        port: r.port,
        state: r.state,
        ready: r.ready,
        revision: r.revision,
        restarts: r.restarts,
        startedAt: r.startedAt,
        runtime: r.runtime,
      }))
      .sort((a, b) => a.id.localeCompare(b.id)),
  };
}

async function collect(logs: AsyncIterable<LogRecord>): Promise<LogRecord[]> {
  const lines: LogRecord[] = [];
  for await (const record of logs) lines.push(record);
  return lines;
}

async function errorCode(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
  } catch (error) {
    if (error instanceof BatonError) return error.code;
    throw error;
  }
  throw new Error("expected an error");
}

/** Every scenario, asked of one client: what the other must answer alike. */
async function ask(client: BatonClient): Promise<Map<string, unknown>> {
  const definition = loadDefinition(project.path("baton.yaml"), {
    exclude: [project.stateDir],
  });
  const status = await client.status();
  return new Map<string, unknown>([
    ["status", status.apps.map(comparable)],
    ["plan", (await client.plan(definition)).plan],
    ["history", await client.history("web")],
    ["history of an unknown app", await errorCode(() => client.history("nope"))],
    ["runs", await client.runs({ limit: 5 })],
    ["run", await client.run(1)],
    ["releases", await client.releases("web")],
    // A line's time comes from the log's size index, which the controller keeps sampling:
    // what was written, and by whom, is what must be alike.
    [
      "logs",
      (await collect(client.logs({ target: "web", tail: 3 }))).map(
        (r) => `${r.source} | ${r.line}`,
      ),
    ],
    ["logs of an unknown target", await errorCode(() => collect(client.logs({ target: "nope" })))],
  ]);
}

beforeAll(async () => {
  port = await freePort();
  project = new Project(definitionText("v1"), { ".gitignore": ".baton/\n" });
  git(project.dir, "init", "-q", "-b", "main");
  git(project.dir, "add", "-A");
  git(project.dir, "commit", "-q", "-m", "v1");
  await project.ok("up", "--detach");
  await project.ok("wait", "--timeout", "60s");
  // A history of two rollouts, a pipeline run with a release of web's files.
  project.write("baton.yaml", definitionText("v2"));
  await project.ok("apply", "--wait");
  await project.ok("run", "ci", "--wait", "--timeout", "60s");
  // An edit not applied: what the plans compare.
  project.write("baton.yaml", definitionText("v3"));

  const remote = connect({ state: project.stateDir });
  expect(remote.mode).toBe("remote");
  answers.set("remote", await ask(remote));

  // The controller dies; what it ran keeps running, and the local client reads it.
  const pid = remote.pid ?? 0;
  process.kill(pid, "SIGKILL");
  await eventually(
    "the controller is gone",
    () => processAlive(pid),
    (alive) => !alive,
  );
  const local = connect({ state: project.stateDir });
  expect(local.mode).toBe("local");
  answers.set("local", await ask(local));
}, 180_000);

afterAll(async () => {
  await project?.cleanup();
});

describe("the remote and the local client", () => {
  const scenarios = [
    "status",
    "plan",
    "history",
    "history of an unknown app",
    "runs",
    "run",
    "releases",
    "logs",
    "logs of an unknown target",
  ];
  it.each(scenarios)("answer %s alike", (scenario) => {
    const remote = answers.get("remote")?.get(scenario);
    const local = answers.get("local")?.get(scenario);
    expect(remote).toBeDefined();
    expect(local).toEqual(remote);
  });

  it("answer with what happened, not with nothing", () => {
    const remote = answers.get("remote") ?? new Map<string, unknown>();
    const status = remote.get("status") as ReturnType<typeof comparable>[];
    expect(status).toHaveLength(1);
    expect((remote.get("history") as { rollouts: unknown[] }).rollouts).toHaveLength(2);
    expect((remote.get("runs") as { runs: unknown[] }).runs).toHaveLength(1);
    expect((remote.get("releases") as { releases: unknown[] }).releases).toHaveLength(1);
    expect((remote.get("logs") as string[]).length).toBeGreaterThan(0);
    const plan = remote.get("plan") as { steps: { type: string; changes?: unknown[] }[] };
    expect(plan.steps.map((s) => s.type)).toEqual(["replace"]);
    expect(remote.get("history of an unknown app")).toBe("history.unknown_app");
    expect(remote.get("logs of an unknown target")).toBe("logs.unknown_target");
  });

  it('is what `import { connect } from "baton"` gives a script', () => {
    // The package's own export, as a script of a project that installed Baton reaches it.
    const script = `import { connect } from "baton";
const client = connect({ state: ${JSON.stringify(project.stateDir)} });
const history = await client.history("web");
console.log(JSON.stringify({ mode: client.mode, rollouts: history.rollouts.length }));`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(JSON.parse(out)).toEqual({ mode: "local", rollouts: 2 });
  });
});
