/**
 * The state directory is Baton's alone (issue 19, item 6): after `up`, an apply, a pipeline
 * run (a step's log, JUnit report, cache and artifacts, a release) and a rollout, no file
 * under it has a group or other bit — only what a process app's own user must read (its
 * log files and its snapshot) may — and an existing state folder left open is made private
 * at the next start, while one owned by another user is refused.
 */
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
} from "node:fs";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, Project } from "../helpers/cli.js";
import { git } from "../helpers/git.js";
import { get } from "../helpers/http.js";
import { eventually } from "../helpers/wait.js";

const projects: Project[] = [];
afterAll(async () => {
  for (const project of projects) {
    execFileSync("chmod", ["-R", "u+w", project.dir]);
    await project.run("down");
    await project.cleanup();
  }
});

/**
 * What a process app's user may read, which the runas part decides (item 2): its log files
 * (`logs/<app>/`) and the folder it runs (`snapshots/`, or a release in `artifacts/`).
 */
const APP_READABLE = /^(snapshots|artifacts)(\/|$)|^logs\/(?!controller\.log$)[^/]+/;

/** Every path under `dir` (relative) whose mode lets a group or others in, with its mode. */
function openModes(dir: string): string[] {
  const found: string[] = [];
  const walk = (path: string): void => {
    const stats = lstatSync(path);
    if (stats.isSymbolicLink()) return;
    const rel = relative(dir, path);
    if ((stats.mode & 0o077) !== 0 && !APP_READABLE.test(rel)) {
      found.push(`${rel || "."} ${(stats.mode & 0o7777).toString(8)}`);
    }
    if (stats.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return found;
}

const SERVER = `const http = require("node:http");
const greeting = require("node:fs").readFileSync("greeting.txt", "utf8").trim();
http
  .createServer((req, res) => res.end(greeting + " " + (process.env.COLOR ?? "") + "\\n"))
  .listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
`;

const definition = (port: number, color: string) => `project: modes
environments: { dev: {} }
apps:
  web:
    command: ["${process.execPath}", server.cjs]
    env: { COLOR: ${color} }
    replicas: 1
    port: ${port}
    health:
      readiness: { http: /, interval: 200ms }
pipelines:
  web:
    source: { repo: . }
    triggers: { poll: false }
    steps:
      - name: test
        run: mkdir -p reports .deps && echo dep > .deps/a && echo '<testsuite tests="1"><testcase name="t"/></testsuite>' > reports/unit.xml && git log -1 --format=%H > out.txt
        reports: { junit: reports/*.xml }
        cache: [.deps]
        artifacts: out.txt
      - { name: files, build: web }
      - { name: dev, deploy: { app: web, env: dev } }
`;

describe("the state directory's modes", () => {
  it("holds no file a group or others can read after up, apply, a pipeline run and a rollout", async () => {
    const port = await freePort();
    const p = new Project(definition(port, "blue"), {
      ".gitignore": ".baton/\n",
      "server.cjs": SERVER,
      "greeting.txt": "v1\n",
    });
    projects.push(p);
    git(p.dir, "init", "-q", "-b", "main");
    git(p.dir, "add", "-A");
    git(p.dir, "commit", "-q", "-m", "v1");
    await p.ok("up", "--detach", "--env", "dev");
    await p.ok("wait", "--timeout", "60s");

    p.write("greeting.txt", "v2\n");
    git(p.dir, "commit", "-q", "-am", "v2");
    const run = await p.run("run", "web", "--wait", "--timeout", "3m");
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // git works in the step, as baton-step, though the repository is in a private folder.
    const manual = (
      JSON.parse((await p.ok("runs", "--json")).stdout) as {
        runs: { run: { id: number; trigger: string } }[];
      }
    ).runs.find((r) => r.run.trigger === "manual");
    const kept = join(p.stateDir, "runs", String(manual?.run.id), "artifacts", "test", "out.txt");
    expect(readFileSync(kept, "utf8").trim()).toBe(git(p.dir, "rev-parse", "HEAD"));
    await eventually(
      "the pipeline's release is served",
      () => get(port),
      (r) => r.body.startsWith("v2"),
      30_000,
    );
    p.write("baton.yaml", definition(port, "green"));
    await p.ok("apply");
    await p.ok("wait", "--timeout", "60s");
    expect((await get(port)).body).toBe("v2 green\n");

    expect(openModes(p.stateDir)).toEqual([]);
    expect(statSync(p.stateDir).mode & 0o777).toBe(0o700);
  }, 240_000);

  it("makes an existing open state folder private at start, and refuses one it does not own", async () => {
    const port = await freePort();
    const p = new Project(definition(port, "blue"), {
      "server.cjs": SERVER,
      "greeting.txt": "v1\n",
    });
    projects.push(p);
    git(p.dir, "init", "-q", "-b", "main");
    git(p.dir, "add", "-A");
    git(p.dir, "commit", "-q", "-m", "v1");
    await p.ok("up", "--detach", "--env", "dev");
    await p.ok("wait", "--timeout", "60s");
    await p.ok("down");
    // As an older version, or a `mkdir` by hand, left it.
    chmodSync(p.stateDir, 0o755);
    chmodSync(join(p.stateDir, "state.db"), 0o644);
    await p.ok("up", "--detach");
    await p.ok("wait", "--timeout", "60s");
    expect(statSync(p.stateDir).mode & 0o777).toBe(0o700);
    expect(openModes(p.stateDir)).toEqual([]);
    await p.ok("down");

    const foreign = p.path("foreign-state");
    mkdirSync(foreign, { mode: 0o755 });
    chownSync(foreign, 65534, 65534);
    const refused = await p.run("up", "--detach", "--env", "dev", "--state", foreign);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      `error[state.not_private] the state directory ${foreign} belongs to uid 65534, not to uid 0 that runs Baton: it cannot be made private`,
    );
    expect(refused.stderr).toContain(
      `hint: run Baton as its owner, or give it to this user: chown -R 0 ${foreign}`,
    );
    expect(statSync(foreign).mode & 0o777).toBe(0o755);
  }, 240_000);
});
