/**
 * A committer's step against the controllers (issue 19, item 5): a committed pipeline step on
 * the host tries every path to a token — both environments' state folders by name, `../..`
 * up from its working folder, the keys folder, every process's environment, every listening
 * port with a guessed token and with any it found, and a POST that approves its own run's
 * promotion. It runs as the unprivileged baton-step user in a folder outside every state
 * directory, so it gets nothing, and the promotion still waits for `baton approve`.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, Project, ROOT } from "../helpers/cli.js";
import { git } from "../helpers/git.js";
import { get } from "../helpers/http.js";
import { promotionProject } from "../helpers/promotion.js";
import { eventually } from "../helpers/wait.js";

let project: Project | undefined;
afterAll(async () => {
  if (project === undefined) return;
  execFileSync("chmod", ["-R", "u+w", project.dir]);
  await project.run("down", "--env", "prod");
  await project.cleanup();
});

const SERVER = `const http = require("node:http");
const greeting = require("node:fs").readFileSync("greeting.txt", "utf8").trim();
http
  .createServer((req, res) => res.end(greeting + "\\n"))
  .listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
`;

interface Probe {
  uid: number;
  cwd: string;
  read: Record<string, string>;
  listed: Record<string, string[]>;
  environ: { pid: number; uid: number; cmdline: string }[];
  tokens: string[];
  apis: number[];
  api: { port: number; method: string; url: string; token: string; status: number | string }[];
}

interface RunJson {
  run: { id: number; commit: string; state: string };
  steps: { name: string; state: string; detail: string | null; approvedBy: string | null }[];
}

describe("a committed step against the controllers", () => {
  it("reads no token, key or state file, reaches no API, and cannot approve its promotion", async () => {
    const port = await freePort();
    const prodPort = await freePort();
    project = new Project(
      promotionProject({
        name: "sandbox",
        port,
        prodPort,
        steps: [
          "- { name: files, build: web }",
          "- { name: dev, deploy: { app: web, env: dev } }",
          "- { name: prod, promote: { app: web, to: prod, approval: manual } }",
          "- name: probe",
          "  needs: [dev]",
          `  run: ${process.execPath} probe.cjs "$STATES"`,
          "  artifacts: probe.json",
        ],
      }),
      {
        ".gitignore": ".baton/\n.baton-prod/\n",
        "server.cjs": SERVER,
        "greeting.txt": "v1\n",
        "probe.cjs": readFileSync(join(ROOT, "test/fixtures/steps/token-probe.cjs"), "utf8"),
      },
    );
    const p = project;
    const devState = p.stateDir;
    const prodState = p.path(".baton-prod");
    // The step is told where both state folders are (a committer reads them in baton.yaml).
    p.write(
      "baton.yaml",
      readFileSync(p.path("baton.yaml"), "utf8").replace('"$STATES"', `${devState} ${prodState}`),
    );
    // A project folder anyone may read, as /srv/shop would be: only the state folders'
    // own modes stand between the step and them.
    chmodSync(p.dir, 0o755);
    git(p.dir, "init", "-q", "-b", "main");
    git(p.dir, "add", "-A");
    git(p.dir, "commit", "-q", "-m", "v1");
    await p.ok("up", "--detach", "--env", "dev");
    await p.ok("up", "--detach", "--env", "prod");
    await p.ok("wait", "--timeout", "60s");
    await p.ok("wait", "--env", "prod", "--timeout", "60s");
    const apiPort = async (...env: string[]): Promise<number> => {
      const status = JSON.parse((await p.ok("status", ...env, "--json")).stdout) as {
        controller: { api: string };
      };
      return Number(new URL(status.controller.api).port);
    };
    const devApi = await apiPort();
    const prodApi = await apiPort("--env", "prod");

    p.write("greeting.txt", "v2\n");
    git(p.dir, "commit", "-q", "-am", "v2, and a probe");
    const started = JSON.parse((await p.ok("run", "web", "--json")).stdout) as {
      run: { id: number };
    };
    const id = started.run.id;
    const runOf = async (): Promise<RunJson | undefined> =>
      (JSON.parse((await p.ok("runs", "--json")).stdout) as { runs: RunJson[] }).runs.find(
        (r) => r.run.id === id,
      );
    const probed = (await eventually(
      "the probe step has ended",
      runOf,
      (r) =>
        r !== undefined &&
        (["passed", "failed", "timed-out", "cancelled", "skipped"].includes(
          r.steps.find((s) => s.name === "probe")?.state ?? "",
        ) ||
          !["queued", "running"].includes(r.run.state)),
      120_000,
    )) as RunJson;
    const stepLog = (await p.run("run", "logs", String(id), "probe")).stdout;
    expect(probed.steps.find((s) => s.name === "probe")?.state, stepLog).toBe("passed");

    const probe = JSON.parse(
      readFileSync(join(devState, "runs", String(id), "artifacts", "probe", "probe.json"), "utf8"),
    ) as Probe;
    const shown = JSON.stringify(probe, null, 1).slice(0, 4000);
    // It ran as baton-step, in a folder outside both state directories.
    expect(probe.uid, shown).not.toBe(0);
    expect(execFileSync("id", ["-un", String(probe.uid)], { encoding: "utf8" }).trim()).toBe(
      "baton-step",
    );
    for (const state of [devState, prodState]) {
      expect(probe.cwd.startsWith(state)).toBe(false);
      // Not a byte of a token, key or state file, not even their names.
      expect(probe.listed[state], shown).toBeUndefined();
    }
    expect(probe.read, shown).toEqual({});
    expect(probe.environ, shown).toEqual([]);
    expect(probe.tokens, shown).toEqual([]);
    // It found both APIs, and every call it made there was refused.
    expect(probe.apis).toEqual(expect.arrayContaining([devApi, prodApi]));
    const approvals = probe.api.filter((c) => c.method === "POST");
    expect(approvals.length).toBeGreaterThan(0);
    const answered = probe.api.filter((c) => typeof c.status === "number");
    expect(
      answered.filter((c) => Number(c.status) < 400),
      shown,
    ).toEqual([]);
    // The folder it ran in is its own, private to it; the state folders stay private.
    expect(statSync(devState).mode & 0o777).toBe(0o700);
    expect(statSync(prodState).mode & 0o777).toBe(0o700);

    // The promotion still waits for a person.
    const waiting = await runOf();
    const prod = waiting?.steps.find((s) => s.name === "prod");
    expect(prod, JSON.stringify(waiting)).toMatchObject({ state: "waiting", approvedBy: null });
    expect((await get(prodPort)).body).toBe("v1\n");

    await p.ok("approve", String(id));
    const done = (await eventually(
      "the approved run ends",
      runOf,
      (r) => r !== undefined && !["queued", "running"].includes(r.run.state),
      120_000,
    )) as RunJson;
    expect(done.run.state, JSON.stringify(done.steps)).toBe("passed");
    expect((await get(prodPort)).body).toBe("v2\n");
  }, 300_000);
});
