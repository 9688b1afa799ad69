/**
 * What Baton has recorded — an app's history, the pipeline runs, the releases — reads the same
 * whether a controller answers (the API) or the CLI reads the state directory itself: one
 * function behind both, so the same question gets the same answer, mistakes included.
 */
import { afterAll, describe, expect, it } from "vitest";
import { type CliResult, freePort, Project } from "../helpers/cli.js";
import { git } from "../helpers/git.js";
import { eventually, processAlive } from "../helpers/wait.js";

let project: Project | undefined;
afterAll(async () => {
  await project?.cleanup();
});

const SERVER = `const http = require("node:http");
const greeting = require("node:fs").readFileSync("greeting.txt", "utf8").trim();
http
  .createServer((req, res) => res.end(greeting + "\\n"))
  .listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
`;

/** Every read, as scripts ask for it (JSON) and the mistakes a person makes. */
const READS = [
  ["history", "web", "--json"],
  ["history", "nothing-of-that-name"],
  ["history", "nothing-of-that-name", "--json"],
  ["runs", "--json"],
  ["runs", "web", "-n", "1", "--json"],
  ["runs", "nothing-of-that-name", "--json"],
  ["releases", "web", "--json"],
  ["releases", "nothing-of-that-name", "--json"],
  ["releases", "nothing-of-that-name"],
];

describe("the recorded reads", () => {
  it("answer the same with a controller and without one", async () => {
    const port = await freePort();
    project = new Project(
      `environments:
  dev: {}
apps:
  web:
    command: ["${process.execPath}", server.cjs]
    replicas: 1
    port: ${port}
    health:
      readiness: { http: /, interval: 200ms }
pipelines:
  web:
    source: { repo: . }
    triggers: { poll: false }
    steps:
      - { name: test, run: test -s greeting.txt }
      - { name: files, build: web }
      - { name: dev, deploy: { app: web, env: dev } }
`,
      { ".gitignore": ".baton/\n", "server.cjs": SERVER, "greeting.txt": "v1\n" },
    );
    const p = project;
    git(p.dir, "init", "-q", "-b", "main");
    git(p.dir, "add", "-A");
    git(p.dir, "commit", "-q", "-m", "v1");
    await p.ok("up", "--detach", "--env", "dev");
    await p.ok("wait", "--timeout", "60s");
    const run = await p.run("run", "web", "--wait", "--timeout", "3m");
    expect(run.code, run.stdout + run.stderr).toBe(0);

    const withController = await readAll(p);
    const unknown = withController[1];
    expect(unknown?.code).toBe(1);
    expect(unknown?.stderr).toBe(
      'error[history.unknown_app] no app named "nothing-of-that-name" has a rollout recorded\n' +
        "  hint: check the app's name with `baton status` (or the definition)\n",
    );
    const history = JSON.parse(withController[0]?.stdout ?? "") as {
      current: string;
      rollouts: { toRevision: string; trigger: string }[];
    };
    expect(history.rollouts.length).toBeGreaterThanOrEqual(2);
    expect(history.current).toBe(history.rollouts[0]?.toRevision);
    const runs = JSON.parse(withController[3]?.stdout ?? "") as { runs: { run: { id: number } }[] };
    expect(runs.runs).toHaveLength(1);
    const releases = JSON.parse(withController[6]?.stdout ?? "") as {
      serving: string;
      releases: { version: string; kind: string }[];
    };
    expect(releases.releases).toHaveLength(1);
    expect(releases.releases[0]?.kind).toBe("artifact");
    expect(releases.serving).toBe(releases.releases[0]?.version);

    // The controller stops (the app serves on): the same reads, from the state directory.
    const { controller } = await p.status();
    process.kill(controller.pid, "SIGTERM");
    await eventually(
      "the controller is gone",
      () => processAlive(controller.pid),
      (alive) => !alive,
    );
    const alone = await readAll(p);
    for (const [i, args] of READS.entries()) {
      expect(alone[i], `baton ${args.join(" ")}`).toEqual(withController[i]);
    }
  }, 300_000);
});

async function readAll(p: Project): Promise<CliResult[]> {
  const results: CliResult[] = [];
  for (const args of READS) results.push(await p.run(...args));
  return results;
}
