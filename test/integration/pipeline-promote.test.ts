/**
 * The whole path of a commit, as the issue tells it: a push to a real bare repository runs
 * the pipeline in dev's controller; the tested commit becomes a release, deployed to dev
 * (served through dev's proxy); the promotion to prod waits for `baton approve`, then prod's
 * controller runs the very same image digest — promoted, never rebuilt — and its history
 * says who approved it.
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

let project: Project | undefined;
afterAll(async () => {
  if (project !== undefined) {
    await project.run("down", "--env", "prod");
    await project.cleanup();
    await removeTestContainers(`baton.state=${project.stateDir}`);
    await removeTestContainers(`baton.state=${project.path(".baton-prod")}`);
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

interface RunJson {
  run: { id: number; commit: string; state: string; release: { version: string } | null };
  steps: { name: string; state: string; detail: string | null; approvedBy: string | null }[];
}

interface ReleasesJson {
  deployed: string | null;
  releases: {
    version: string;
    number: number;
    digest: string;
    commit: string;
    createdBy: string;
    details: { importedFrom?: { environment: string; run: number } };
  }[];
}

describe("promotion from dev to prod", () => {
  it("deploys a pushed commit to dev, waits for approval, then runs the same digest in prod", async () => {
    const devPort = await freePort();
    const prodPort = await freePort();
    project = new Project(
      `project: promote-${RUN}
registry: ${REGISTRY}
environments:
  dev: {}
  prod:
    state: .baton-prod
    overrides: { apps: { api: { port: ${prodPort} } } }
apps:
  api:
    build: { context: ./api, labels: { baton.test.run: "${RUN}" } }
    command: ["${process.execPath}", "/app/app.cjs"]
    env: { HOST: 0.0.0.0 }
    containerPort: 8080
    replicas: 1
    port: ${devPort}
    health:
      readiness: { http: /healthz, interval: 200ms }
pipelines:
  api:
    source: { repo: shop.git }
    triggers: { poll: false }
    steps:
      - { name: test, run: grep -q GREETING api/Dockerfile }
      - { name: image, build: api }
      - { name: dev, deploy: { app: api, env: dev } }
      - name: prod
        promote: { app: api, to: prod, approval: manual, after: { healthyFor: 1s } }
`,
      {
        ".gitignore": ".baton/\n.baton-prod/\nshop.git/\n",
        "api/Dockerfile": dockerfile("v1"),
        "api/app.cjs": readFileSync(TEST_APP, "utf8"),
      },
    );
    const p = project;
    // The team's repository: a bare one pushed to; the definition sits in a clone of it.
    git(p.dir, "init", "-q", "--bare", "-b", "main", p.path("shop.git"));
    git(p.dir, "init", "-q", "-b", "main");
    git(p.dir, "add", "-A");
    git(p.dir, "commit", "-q", "-m", "v1");
    git(p.dir, "remote", "add", "origin", p.path("shop.git"));
    git(p.dir, "push", "-q", "origin", "main");

    await p.ok("up", "--detach", "--env", "dev");
    await p.ok("up", "--detach", "--env", "prod");
    await p.ok("wait", "--timeout", "90s");
    await p.ok("wait", "--env", "prod", "--timeout", "90s");
    expect((await get(devPort)).body).toMatch(/^v1 from api-/);
    expect((await get(prodPort)).body).toMatch(/^v1 from api-/);
    const hook = await p.ok("hooks", "install");
    expect(hook.stdout).toContain("hook installed");
    // Only dev's controller runs the pipeline; prod's points there.
    const elsewhere = await p.run("run", "api", "--env", "prod");
    expect(elsewhere.code).not.toBe(0);
    expect(elsewhere.stderr).toContain("pipeline api runs in the controller of dev");

    p.write("api/Dockerfile", dockerfile("v2"));
    git(p.dir, "commit", "-q", "-am", "say v2");
    const commit = git(p.dir, "rev-parse", "HEAD");
    git(p.dir, "push", "-q", "origin", "main");

    const runOf = async (): Promise<RunJson | undefined> =>
      (JSON.parse((await p.ok("runs", "--json")).stdout) as { runs: RunJson[] }).runs.find(
        (r) => r.run.commit === commit,
      );
    const waiting = (await eventually(
      "the pushed commit reaches dev and waits for approval",
      runOf,
      // Or ended: a failed run shows its steps below instead of a timeout.
      (r) =>
        r !== undefined &&
        (r.steps.find((s) => s.name === "prod")?.state === "waiting" ||
          !["queued", "running"].includes(r.run.state)),
      180_000,
    )) as RunJson;
    expect(waiting.steps.map((s) => `${s.name} ${s.state}`)).toEqual([
      "test passed",
      "image passed",
      "dev passed",
      "prod waiting",
    ]);
    expect((await get(devPort)).body).toMatch(/^v2 from api-/);
    // Nothing reaches prod before the approval.
    expect((await get(prodPort)).body).toMatch(/^v1 from api-/);

    const approved = await p.ok("approve", String(waiting.run.id));
    expect(approved.stdout).toMatch(/approved by /);
    const done = (await eventually(
      "the promotion ends",
      runOf,
      (r) => r !== undefined && r.run.state !== "running",
      120_000,
    )) as RunJson;
    expect(done.run.state, JSON.stringify(done.steps)).toBe("passed");
    const version = done.run.release?.version;
    expect(done.steps[3]).toMatchObject({ state: "passed", detail: `api ${version} in prod` });
    // Who approved is the token's name: the state directory's own here.
    expect(done.steps[3]?.approvedBy).toBe("bootstrap");
    await eventually(
      "prod serves v2",
      () => get(prodPort),
      (r) => /^v2 from api-/.test(r.body),
      30_000,
    );

    const dev = JSON.parse((await p.ok("releases", "api", "--json")).stdout) as ReleasesJson;
    const prod = JSON.parse(
      (await p.ok("releases", "api", "--env", "prod", "--json")).stdout,
    ) as ReleasesJson;
    const built = dev.releases.find((r) => r.version === version);
    const promoted = prod.releases.find((r) => r.version === version);
    expect(dev.deployed).toBe(version);
    expect(prod.deployed).toBe(version);
    // The same bytes: one digest, built once (by the run), recorded in prod as promoted.
    expect(promoted?.digest).toBe(built?.digest);
    expect(promoted?.number).toBe(built?.number);
    expect(promoted).toMatchObject({ commit, createdBy: `pipeline api #${done.run.id}` });
    expect(promoted?.details.importedFrom).toEqual({
      environment: "dev",
      pipeline: "api",
      run: done.run.id,
    });
    const history = await p.ok("history", "api", "--env", "prod");
    expect(history.stdout).toMatch(/promote from dev, approved by bootstrap/);
  }, 420_000);
});
