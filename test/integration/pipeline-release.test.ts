/**
 * A pipeline that releases: a commit to the definition's own repository is tested, built
 * into an image release (pushed to the registry, recorded with the run), and deployed to the
 * controller's environment through a rollout — the change is then served through the proxy.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, Project, TEST_APP } from "../helpers/cli.js";
import { docker, ensureDocker, nodeBaseImage, removeTestContainers } from "../helpers/docker.js";
import { git } from "../helpers/git.js";
import { get } from "../helpers/http.js";
import { ensureRegistry, REGISTRY } from "../helpers/registry.js";
import { eventually } from "../helpers/wait.js";

await ensureDocker();
await ensureRegistry();
const base = await nodeBaseImage();

const RUN = randomBytes(4).toString("hex");
const PROJECT = `pipetest-${RUN}`;

let project: Project | undefined;
afterAll(async () => {
  if (project !== undefined) {
    await project.cleanup();
    await removeTestContainers(`baton.state=${project.stateDir}`);
  }
  const images = (await docker(["images", "-q", "--filter", `label=baton.test.run=${RUN}`]))
    .split("\n")
    .filter(Boolean);
  for (const id of new Set(images)) await docker(["rmi", "-f", id]).catch(() => undefined);
});

const dockerfile = (greeting: string) => `FROM ${base}
ENV GREETING=${greeting}
COPY . /app
`;

describe("a pipeline with build and deploy steps", () => {
  it("releases a tested commit and rolls the controller's environment out to it", async () => {
    const port = await freePort();
    project = new Project(
      `project: ${PROJECT}
registry: ${REGISTRY}
environments: { dev: {} }
apps:
  api:
    build: { context: ./api, labels: { baton.test.run: "${RUN}" } }
    command: ["${process.execPath}", "/app/app.cjs"]
    env: { HOST: 0.0.0.0 }
    containerPort: 8080
    replicas: 1
    port: ${port}
    health:
      readiness: { http: /healthz, interval: 200ms }
pipelines:
  api:
    source: { repo: . }
    triggers: { poll: false }
    steps:
      - { name: test, run: grep -q GREETING api/Dockerfile }
      - { name: image, build: api }
      - { name: dev, deploy: { app: api, env: dev } }
`,
      {
        ".gitignore": ".baton/\n",
        "api/Dockerfile": dockerfile("v1"),
        "api/app.cjs": readFileSync(TEST_APP, "utf8"),
      },
    );
    const p = project;
    git(p.dir, "init", "-q", "-b", "main");
    git(p.dir, "add", "-A");
    git(p.dir, "commit", "-q", "-m", "v1");
    await p.ok("up", "--detach", "--env", "dev");
    await p.ok("wait", "--timeout", "90s");
    expect((await get(port)).body).toMatch(/^v1 from api-/);

    p.write("api/Dockerfile", dockerfile("v2"));
    git(p.dir, "commit", "-q", "-am", "say v2");
    const commit = git(p.dir, "rev-parse", "HEAD");
    const run = await p.run("run", "api", "--wait", "--timeout", "5m");
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/image passed: release [0-9a-f]{8}-[0-9a-f]{8}/);
    expect(run.stdout).toMatch(/dev passed: api [0-9a-f-]+ in dev/);

    // The build's progress is the image step's log.
    const logs = await p.ok("run", "logs", (/api #(\d+)/.exec(run.stdout) ?? [])[1] ?? "0");
    expect(logs.stdout).toMatch(/^image \| building api [0-9a-f]{8}-[0-9a-f]{8} \(/m);
    expect(logs.stdout).toMatch(/^image \| pushing 127\.0\.0\.1:5000\//m);
    const runs = JSON.parse((await p.ok("runs", "--json")).stdout) as {
      runs: { run: { commit: string; state: string; release: { app: string; version: string } } }[];
    };
    const released = runs.runs[0]?.run;
    expect(released).toMatchObject({ commit, state: "passed", release: { app: "api" } });
    expect(released?.release.version.slice(0, 8)).toBe(commit.slice(0, 8));
    await eventually(
      "the proxy serves v2",
      () => get(port),
      (r) => /^v2 from api-/.test(r.body),
      30_000,
    );
    const releases = JSON.parse((await p.ok("releases", "api", "--json")).stdout) as {
      deployed: string;
      releases: { version: string; commit: string }[];
    };
    expect(releases.deployed).toBe(released?.release.version);
    expect(releases.releases[0]).toMatchObject({ version: released?.release.version, commit });

    // A cancel during the image build abandons it: the run ends cancelled, nothing released.
    p.write("api/Dockerfile", `${dockerfile("v3")}RUN sleep 60\n`);
    git(p.dir, "commit", "-q", "-am", "a slow build");
    const slow = JSON.parse((await p.ok("run", "api", "--json")).stdout) as { run: { id: number } };
    const id = String(slow.run.id);
    interface Steps {
      run: { state: string; release: unknown };
      steps: { name: string; state: string }[];
    }
    const runOf = async () => (await p.api(`/api/v1/runs/${id}`)) as Steps;
    await eventually(
      "the image builds",
      async () => (await p.ok("run", "logs", id)).stdout,
      (text) => /^image \| building api /m.test(text),
      60_000,
    );
    await p.ok("run", "cancel", id);
    // The deadline is well before the build's own 60 s: the build is abandoned, not awaited.
    const ended = await eventually("the run ends", runOf, (r) => r.run.state !== "running", 30_000);
    expect(ended.run).toMatchObject({ state: "cancelled", release: null });
    expect(ended.steps.find((s) => s.name === "image")?.state).toBe("cancelled");
    const after = JSON.parse((await p.ok("releases", "api", "--json")).stdout) as {
      releases: unknown[];
    };
    expect(after.releases).toHaveLength(releases.releases.length);
  }, 300_000);
});
