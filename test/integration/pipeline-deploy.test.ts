/**
 * A pipeline with no `build` step: its `deploy` builds the run's commit itself — a process
 * app's folder as an artifact, an app with `build:` as an image — then rolls the environment
 * out to that release, which the run's record, its step's log and `baton releases` show. A
 * push to the team's bare repository starts the run, as in the README.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, Project, TEST_APP } from "../helpers/cli.js";
import { docker, ensureDocker, nodeBaseImage, removeTestContainers } from "../helpers/docker.js";
import { git } from "../helpers/git.js";
import { get } from "../helpers/http.js";
import { ensureRegistry, REGISTRY } from "../helpers/registry.js";
import { eventually } from "../helpers/wait.js";

const projects: Project[] = [];
const RUN = randomBytes(4).toString("hex");

afterAll(async () => {
  for (const p of projects) {
    // Artifacts are read-only: opened up, so that the folder can be removed without root too.
    execFileSync("chmod", ["-R", "u+w", p.dir]);
    await p.cleanup();
    await removeTestContainers(`baton.state=${p.stateDir}`).catch(() => undefined);
  }
  const images = await docker(["images", "-q", "--filter", `label=baton.test.run=${RUN}`]).catch(
    () => "",
  );
  for (const id of new Set(images.split("\n").filter(Boolean))) {
    await docker(["rmi", "-f", id]).catch(() => undefined);
  }
});

/** Says what greeting.txt held when the replica started. */
const SERVER = `const http = require("node:http");
const greeting = require("node:fs").readFileSync("greeting.txt", "utf8").trim();
http
  .createServer((req, res) => res.end(greeting + " from " + process.env.BATON_REPLICA + "\\n"))
  .listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
`;

interface RunJson {
  run: {
    id: number;
    commit: string;
    state: string;
    reason: string | null;
    release: { app: string; version: string } | null;
  };
  steps: { name: string; state: string; detail: string | null }[];
}

interface ReleasesJson {
  deployed: string | null;
  releases: { version: string; kind: string; commit: string; createdBy: string }[];
}

/** The team's repository is a bare one pushed to; the definition sits in a clone of it. */
async function pushedProject(definition: string, files: Record<string, string>): Promise<Project> {
  const p = new Project(definition, { ".gitignore": ".baton/\nshop.git/\n", ...files });
  projects.push(p);
  git(p.dir, "init", "-q", "--bare", "-b", "main", p.path("shop.git"));
  git(p.dir, "init", "-q", "-b", "main");
  git(p.dir, "add", "-A");
  git(p.dir, "commit", "-q", "-m", "v1");
  git(p.dir, "remote", "add", "origin", p.path("shop.git"));
  git(p.dir, "push", "-q", "origin", "main");
  return p;
}

/** Commits and pushes what changed; the run of that commit once it has ended. */
async function pushed(p: Project, subject: string): Promise<RunJson> {
  git(p.dir, "commit", "-q", "-am", subject);
  const commit = git(p.dir, "rev-parse", "HEAD");
  git(p.dir, "push", "-q", "origin", "main");
  const runOf = async (): Promise<RunJson | undefined> =>
    (JSON.parse((await p.ok("runs", "--json")).stdout) as { runs: RunJson[] }).runs.find(
      (r) => r.run.commit === commit,
    );
  return (await eventually(
    `the run of ${subject} ends`,
    runOf,
    (r) => r !== undefined && !["queued", "running"].includes(r.run.state),
    120_000,
  )) as RunJson;
}

describe("a pipeline that deploys with no build step", () => {
  it("is refused for an app that names its image, with what to do instead", async () => {
    const p = new Project(`environments: { dev: {} }
apps:
  cache:
    runtime: docker
    image: redis:7
    containerPort: 6379
    command: [redis-server]
pipelines:
  cache:
    source: { repo: . }
    steps:
      - { name: dev, deploy: { app: cache, env: dev } }
`);
    projects.push(p);
    const result = await p.run("validate");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "error[spec.app_without_build] pipelines.cache.steps[0].deploy.app deploys cache, which runs the image redis:7 and has no `build:`",
    );
    expect(result.stderr).toContain("--> baton.yaml:12:37");
    expect(result.stderr).toContain(
      "hint: add `build: { context: . }` to apps.cache (in place of `image:`) for the pipeline to build its image from each commit, or take this step out: `baton apply` rolls cache out when its `image:` changes",
    );
  });

  it("delivers a pushed commit of a process app to dev with `test` then `deploy`", async () => {
    const port = await freePort();
    const p = await pushedProject(
      `project: deploy-only
environments: { dev: {} }
apps:
  web:
    command: ["${process.execPath}", server.cjs]
    replicas: 1
    port: ${port}
    health:
      readiness: { http: /, interval: 200ms }
    update: { healthyDeadline: 10s, drainTimeout: 1s }
pipelines:
  web:
    source: { repo: shop.git }
    triggers: { poll: false }
    steps:
      - { name: test, run: test -s greeting.txt }
      - { name: dev, deploy: { app: web, env: dev } }
`,
      { "server.cjs": SERVER, "greeting.txt": "v1\n" },
    );
    await p.ok("up", "--detach", "--env", "dev");
    await p.ok("wait", "--timeout", "60s");
    expect((await get(port)).body).toMatch(/^v1 from web-/);
    expect((await p.ok("hooks", "install")).stdout).toContain("hook installed");

    p.write("greeting.txt", "v2\n");
    const done = await pushed(p, "say v2");
    expect(done.run.state, JSON.stringify(done)).toBe("passed");
    const version = done.run.release?.version ?? "";
    expect(done.run.release).toMatchObject({ app: "web" });
    expect(version.slice(0, 8)).toBe(done.run.commit.slice(0, 8));
    expect(done.steps.map((s) => `${s.name} ${s.state} ${s.detail}`)).toEqual([
      "test passed null",
      `dev passed web ${version} in dev (released by this step)`,
    ]);
    await eventually(
      "the proxy serves v2",
      () => get(port),
      (r) => /^v2 from web-/.test(r.body),
      30_000,
    );

    // The release it made: an artifact of the commit's files, deployed, made by this run.
    const releases = JSON.parse((await p.ok("releases", "web", "--json")).stdout) as ReleasesJson;
    expect(releases.deployed).toBe(version);
    expect(releases.releases[0]).toMatchObject({
      version,
      kind: "artifact",
      commit: done.run.commit,
      createdBy: `pipeline web #${done.run.id}`,
    });
    // The deploy step's log has the build's progress, then the deploy.
    const logs = (await p.ok("run", "logs", String(done.run.id))).stdout;
    expect(logs).toMatch(
      new RegExp(
        `^dev +\\| web: stored the artifact sha256:[0-9a-f]+ of its files at ${done.run.commit.slice(0, 8)}$`,
        "m",
      ),
    );
    expect(logs).toMatch(new RegExp(`^dev +\\| deploying web ${version} to dev$`, "m"));
    expect((await p.ok("runs")).stdout).toMatch(
      new RegExp(`^ {3}dev +passed +\\S+ +web ${version} in dev \\(released by this step\\)$`, "m"),
    );
    const api = (await p.api("/api/v1/runs")) as { runs: RunJson[] };
    expect(api.runs.find((r) => r.run.id === done.run.id)?.run.release).toEqual({
      app: "web",
      version,
    });
  }, 180_000);

  it("builds an app with `build:` as an image when it deploys it, beside another app's build step", async () => {
    await ensureDocker();
    await ensureRegistry();
    const base = await nodeBaseImage();
    const dockerfile = (greeting: string) =>
      `FROM ${base}\nENV GREETING=${greeting}\nCOPY . /app\n`;
    const [apiPort, webPort] = [await freePort(), await freePort()];
    const p = await pushedProject(
      `project: deploy-only-${RUN}
registry: ${REGISTRY}
environments: { dev: {} }
apps:
  api:
    build: { context: ./api, labels: { baton.test.run: "${RUN}" } }
    command: ["${process.execPath}", "/app/app.cjs"]
    env: { HOST: 0.0.0.0 }
    containerPort: 8080
    replicas: 1
    port: ${apiPort}
    health:
      readiness: { http: /healthz, interval: 200ms }
  web:
    command: ["${process.execPath}", server.cjs]
    cwd: ./web
    replicas: 1
    port: ${webPort}
    health:
      readiness: { http: /, interval: 200ms }
pipelines:
  shop:
    source: { repo: shop.git }
    triggers: { poll: false }
    steps:
      - { name: test, run: grep -q GREETING api/Dockerfile }
      - { name: files, build: web }
      - { name: web-dev, deploy: { app: web, env: dev } }
      - { name: api-dev, deploy: { app: api, env: dev } }
`,
      {
        "api/Dockerfile": dockerfile("v1"),
        "api/app.cjs": readFileSync(TEST_APP, "utf8"),
        "web/server.cjs": SERVER,
        "web/greeting.txt": "v1\n",
      },
    );
    await p.ok("up", "--detach", "--env", "dev");
    await p.ok("wait", "--timeout", "90s");
    expect((await get(apiPort)).body).toMatch(/^v1 from api-/);
    await p.ok("hooks", "install");

    p.write("api/Dockerfile", dockerfile("v2"));
    p.write("web/greeting.txt", "v2\n");
    const done = await pushed(p, "say v2");
    expect(done.run.state, JSON.stringify(done)).toBe("passed");
    const [, files, webDev, apiDev] = done.steps;
    const webVersion = /^release (\S+)$/.exec(files?.detail ?? "")?.[1];
    // Each app gets its own release: web's from its build step, api's from its deploy.
    expect(webDev?.detail).toBe(`web ${webVersion} in dev`);
    const apiVersion = /^api (\S+) in dev \(released by this step\)$/.exec(
      apiDev?.detail ?? "",
    )?.[1];
    expect(apiVersion).toBeDefined();
    expect(apiVersion).not.toBe(webVersion);
    // The run's record holds the release it made last.
    expect(done.run.release).toEqual({ app: "api", version: apiVersion });
    const releases = JSON.parse((await p.ok("releases", "api", "--json")).stdout) as ReleasesJson;
    expect(releases.deployed).toBe(apiVersion);
    expect(releases.releases[0]).toMatchObject({
      version: apiVersion,
      kind: "image",
      commit: done.run.commit,
    });
    const logs = (await p.ok("run", "logs", String(done.run.id))).stdout;
    expect(logs).toMatch(/^api-dev +\| building api [0-9a-f]{8}-[0-9a-f]{8} \(/m);
    expect(logs).toMatch(/^api-dev +\| pushing 127\.0\.0\.1:5000\//m);
    await eventually(
      "api serves v2",
      () => get(apiPort),
      (r) => /^v2 from api-/.test(r.body),
      30_000,
    );
    expect((await get(webPort)).body).toMatch(/^v2 from web-/);
  }, 300_000);
});
