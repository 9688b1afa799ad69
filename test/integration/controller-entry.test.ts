/**
 * The controller has an entry point of its own (dist/controller/main.js): `baton up` starts
 * it and applies through its API, and started on its own it runs the last generation its
 * state recorded — the text and the uploaded files — with no client and none of its disk.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { baton, CLI, freePort, ROOT, type StatusJson } from "../helpers/cli.js";
import { get } from "../helpers/http.js";
import { eventually, processAlive } from "../helpers/wait.js";

const SERVER = `const http = require("node:http");
const greeting = require("node:fs").readFileSync("greeting.txt", "utf8").trim();
http
  .createServer((req, res) => res.end(greeting + " from " + process.env.BATON_REPLICA + "\\n"))
  .listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A project folder and a state directory beside it, not inside it. */
async function layout(): Promise<{ root: string; project: string; state: string; port: number }> {
  const root = mkdtempSync(join(tmpdir(), "baton-entry-"));
  const project = join(root, "project");
  const state = join(root, "state");
  const port = await freePort();
  mkdirSync(project);
  writeFileSync(
    join(project, "baton.yaml"),
    `apps:
  web:
    command: ["${process.execPath}", server.cjs]
    replicas: 2
    port: ${port}
    health:
      readiness: { http: /, interval: 200ms }
`,
  );
  writeFileSync(join(project, "server.cjs"), SERVER);
  writeFileSync(join(project, "greeting.txt"), "v1\n");
  cleanups.push(async () => {
    await baton(["down", "--state", state], { cwd: root });
    rmSync(root, { recursive: true, force: true });
  });
  return { root, project, state, port };
}

async function status(state: string, cwd: string): Promise<StatusJson> {
  const result = await baton(["status", "--json", "--state", state], { cwd });
  if (result.code !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as StatusJson;
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((done) => child.once("exit", (code) => done(code)));
}

describe("the controller's entry point", () => {
  it("started on its own, runs the state's last generation without its client's files", async () => {
    const { root, project, state, port } = await layout();
    const up = await baton(["up", "--detach", "--state", state], { cwd: project });
    expect(up.code, up.stderr).toBe(0);
    await baton(["wait", "--state", state], { cwd: project });
    const before = await status(state, root);
    expect((await get(port)).body).toMatch(/^v1 from web-/);

    process.kill(before.controller.pid, "SIGTERM");
    await eventually(
      "the controller stops",
      () => processAlive(before.controller.pid),
      (alive) => !alive,
    );
    // The client and its files are gone: nothing of them can be read any more.
    renameSync(project, join(root, "elsewhere"));
    rmSync(join(root, "elsewhere"), { recursive: true, force: true });

    const log = openSync(join(root, "controller.log"), "a");
    const controller = spawn(
      process.execPath,
      [join(ROOT, "dist", "controller", "main.js"), "--state", state],
      { detached: true, stdio: ["ignore", log, log] },
    );
    controller.unref();
    const after = await eventually(
      "the controller runs again, from its state",
      () => status(state, root),
      (s) => s.controller.pid === controller.pid && s.apps[0]?.ready === 2,
    );
    expect(after.controller.definition).toMatchObject({ hash: before.controller.definition.hash });
    // Adopted, the very same replicas.
    const ids = (s: StatusJson) => s.apps[0]!.replicas.map((r) => `${r.id}:${r.pid}`).sort();
    expect(ids(after)).toEqual(ids(before));

    // Healed from what the state holds, not from the folder that is gone.
    const victim = after.apps[0]!.replicas[0]!;
    process.kill(victim.pid!, "SIGKILL");
    const healed = await eventually(
      "a new replica replaces the one killed",
      () => status(state, root),
      (s) => s.apps[0]!.ready === 2 && !s.apps[0]!.replicas.some((r) => r.id === victim.id),
    );
    expect(healed.apps[0]!.revision).toBe(before.apps[0]!.revision);
    expect((await get(port)).body).toMatch(/^v1 from web-/);
  });

  it("is what `baton up` runs in the foreground, which forwards SIGTERM and ends with it", async () => {
    const { root, project, state, port } = await layout();
    const up = spawn(process.execPath, [CLI, "up", "--state", state], {
      cwd: project,
      env: { ...process.env, NO_COLOR: "1", BATON_STATE: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    up.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    up.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = exitOf(up);
    cleanups.push(async () => {
      if (up.exitCode === null) up.kill("SIGKILL");
    });
    const running = await eventually(
      "the controller serves",
      () => status(state, root),
      (s) => s.apps[0]?.ready === 2,
      30_000,
    );
    // Its own process, not the CLI's.
    expect(running.controller.pid).not.toBe(up.pid);
    expect(output).toContain("definition.applied");

    up.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(output).toContain("controller stopped; apps keep serving");
    await eventually(
      "the controller is gone with it",
      () => processAlive(running.controller.pid),
      (alive) => !alive,
    );
    expect((await get(port)).body).toMatch(/^v1 from web-/);
  });

  it("waiting for its first definition, gets a plan from the state instead of refusing it", async () => {
    const { root, project, state } = await layout();
    mkdirSync(state, { recursive: true });
    const log = openSync(join(root, "controller.log"), "a");
    const controller = spawn(
      process.execPath,
      [join(ROOT, "dist", "controller", "main.js"), "--state", state, "--await-apply"],
      { detached: true, stdio: ["ignore", log, log] },
    );
    controller.unref();
    cleanups.push(async () => {
      if (processAlive(controller.pid ?? 0)) process.kill(controller.pid ?? 0, "SIGTERM");
    });
    await eventually(
      "the controller answers, with no definition yet",
      () => baton(["status", "--state", state], { cwd: root }),
      (answer) => answer.stderr.includes("controller.no_definition"),
    );
    const plan = await baton(["plan", "--state", state], { cwd: project });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/\+ create\s+app\/web\s+new/);
  });
});
