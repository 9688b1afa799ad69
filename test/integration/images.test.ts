import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, Project, type StatusJson, TEST_APP } from "../helpers/cli.js";
import { docker, ensureDocker, nodeBaseImage, removeTestContainers } from "../helpers/docker.js";
import { git } from "../helpers/git.js";
import { get } from "../helpers/http.js";
import { Load } from "../helpers/load.js";
import { ensureRegistry, manifestDigest, REGISTRY, registryTags } from "../helpers/registry.js";

// The real engine and registry, or a failure that says what to install: never a skipped suite.
await ensureDocker();
await ensureRegistry();
const base = await nodeBaseImage();

/** Every image and container of this run carries it: cleanup removes exactly those. */
const RUN = randomBytes(4).toString("hex");
const PROJECT = `imgtest-${RUN}`;
const REPOSITORY = `${PROJECT}/api`;

interface ReleasesJson {
  app: string;
  deployed: string | null;
  serving: string | null;
  releases: { version: string; digest: string; commit: string | null; createdAt: string }[];
}

let project: Project | undefined;
let load: Load | undefined;
afterAll(async () => {
  await load?.stop();
  if (project !== undefined) {
    await project.cleanup();
    await removeTestContainers(`baton.state=${project.stateDir}`);
  }
  await removeTestContainers(`baton.test.run=${RUN}`);
  const images = (await docker(["images", "-q", "--filter", `label=baton.test.run=${RUN}`]))
    .split("\n")
    .filter(Boolean);
  for (const id of new Set(images)) await docker(["rmi", "-f", id]).catch(() => undefined);
});

function definition(port: number, greeting: string): string {
  return `project: ${PROJECT}
registry: ${REGISTRY}
apps:
  api:
    build:
      context: ./api
      args: { GREETING: ${greeting} }
      labels: { baton.test.run: "${RUN}" }
    command: ["${process.execPath}", "/app/app.cjs"]
    env: { HOST: 0.0.0.0 }
    containerPort: 8080
    replicas: 2
    port: ${port}
    health:
      readiness: { http: /healthz, interval: 200ms }
`;
}

const DOCKERFILE = `FROM ${base}
ARG GREETING=unset
ENV GREETING=$GREETING
COPY . /app
`;

const api = (s: StatusJson) => s.apps.find((a) => a.name === "api")!;

async function releases(p: Project): Promise<ReleasesJson> {
  return JSON.parse((await p.ok("releases", "api", "--json")).stdout) as ReleasesJson;
}

describe("an app with build:", () => {
  it("is built, pushed, recorded, run by digest, deployed and rolled back by release", async () => {
    const port = await freePort();
    project = new Project(definition(port, "v1"), {
      "api/Dockerfile": DOCKERFILE,
      "api/app.cjs": readFileSync(TEST_APP, "utf8"),
      "api/.dockerignore": "*.log\n",
      "api/debug.log": "left out of the context\n",
    });
    const p = project;
    git(p.dir, "init", "-q");
    git(p.dir, "add", "-A");
    git(p.dir, "commit", "-q", "-m", "v1");
    const commit = execFileSync("git", ["-C", p.dir, "rev-parse", "HEAD"]).toString().trim();

    // `up` builds an app that has no release yet first (like `docker compose up`): through
    // the engine with its progress, tagged by version, pushed, recorded.
    const up = await p.ok("up", "--detach");
    expect(up.stdout).toMatch(/api has no release yet: building it/);
    expect(up.stdout).toMatch(/Step 1\/\d+ : FROM/);
    expect(up.stdout).toMatch(/pushing 127\.0\.0\.1:5000\//);
    const first = await releases(p);
    expect(first.releases).toHaveLength(1);
    const v1 = first.releases[0]!;
    expect(v1.version).toBe(`${commit.slice(0, 8)}-${v1.version.slice(9)}`);
    expect(v1.version).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}$/);
    expect(v1.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(v1.commit).toBe(commit);
    expect(Date.parse(v1.createdAt)).toBeGreaterThan(Date.now() - 10 * 60_000);
    expect(await registryTags(REPOSITORY)).toContain(v1.version);
    expect(await manifestDigest(REPOSITORY, v1.version)).toBe(v1.digest);

    // The same commit and content: nothing built or pushed again.
    const again = await p.ok("build", "api");
    expect(again.stdout).toMatch(/unchanged/);
    expect(again.stdout).not.toMatch(/Step 1/);
    expect((await releases(p)).releases).toHaveLength(1);

    // .dockerignore kept debug.log out of the image.
    const pinnedV1 = `${REGISTRY}/${REPOSITORY}@${v1.digest}`;
    const files = await docker([
      "run",
      "--rm",
      "--label",
      `baton.test.run=${RUN}`,
      pinnedV1,
      "ls",
      "/app",
    ]);
    expect(files.split("\n")).toContain("app.cjs");
    expect(files).not.toMatch(/debug\.log/);

    // It runs the release by digest.
    await p.ok("wait", "--timeout", "60s");
    expect((await get(port)).body).toMatch(/^v1 from api-/);
    for (const replica of api(await p.status()).replicas) {
      expect(replica).toMatchObject({ runtime: "docker", image: pinnedV1 });
      expect(replica.container).toMatch(/^[0-9a-f]{64}$/);
    }

    // A code change (uncommitted) and a new argument: a new version.
    p.write("api/app.cjs", `${readFileSync(TEST_APP, "utf8")}\n// v2\n`);
    p.write("baton.yaml", definition(port, "v2"));
    await p.ok("build", "api");
    const second = await releases(p);
    expect(second.releases).toHaveLength(2);
    const v2 = second.releases[0]!;
    expect(v2.version).not.toBe(v1.version);
    expect(v2.version.slice(0, 8)).toBe(commit.slice(0, 8));
    expect(v2.digest).not.toBe(v1.digest);

    // deploy --release rolls out to that digest, without a failed request.
    load = new Load(port, 2, 120_000);
    const deployed = await p.ok(
      "deploy",
      "api",
      "--release",
      v2.version,
      "--wait",
      "--timeout",
      "90s",
    );
    expect(deployed.stdout).toMatch(/rolled out/);
    expect((await get(port)).body).toMatch(/^v2 from api-/);
    for (const replica of api(await p.status()).replicas) {
      expect(replica.image).toBe(`${REGISTRY}/${REPOSITORY}@${v2.digest}`);
    }
    expect(await releases(p)).toMatchObject({ deployed: v2.version, serving: v2.version });

    // rollback goes back to the previous release: the same digest as before.
    await p.ok("rollback", "api", "--wait", "--timeout", "90s");
    const report = await load.stop();
    load = undefined;
    expect(report.failed, report.errors.join("\n")).toBe(0);
    expect(report.ok).toBeGreaterThan(0);
    expect((await get(port)).body).toMatch(/^v1 from api-/);
    for (const replica of api(await p.status()).replicas) {
      expect(replica.image).toBe(pinnedV1);
    }
    expect(await releases(p)).toMatchObject({ deployed: v1.version, serving: v1.version });

    // An unknown release changes nothing and says where to look.
    const unknown = await p.run("deploy", "api", "--release", "nope");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/deploy\.unknown_release/);
    expect(unknown.stderr).toMatch(/baton releases api/);

    // A release that never gets ready is rolled back: v1 serves, and `releases` says so.
    p.write("api/app.cjs", "process.exit(1)\n");
    await p.ok("build", "api");
    const broken = (await releases(p)).releases[0]!;
    const refused = await p.run("deploy", "api", "--release", broken.version, "--wait");
    expect(refused.code).toBe(1);
    expect(await releases(p)).toMatchObject({ deployed: broken.version, serving: v1.version });
    expect((await p.ok("releases", "api")).stdout).toContain(
      `${broken.version} is deployed but was rolled back: ${v1.version} serves`,
    );
    expect((await get(port)).body).toMatch(/^v1 from api-/);

    // deploy without --release builds the current code, then rolls out to it. The definition
    // on disk (greeting v2) is not the applied one (v1): it is read from the file.
    p.write("api/app.cjs", `${readFileSync(TEST_APP, "utf8")}\n// v3\n`);
    const fromFile = await p.ok("deploy", "api", "--wait", "--timeout", "90s");
    expect(fromFile.stdout).toMatch(/Step 1\/\d+ : FROM/);
    expect(fromFile.stdout).toMatch(/rolled out/);
    const v3 = (await releases(p)).releases[0]!;
    expect(await releases(p)).toMatchObject({ deployed: v3.version, serving: v3.version });
    expect((await get(port)).body).toMatch(/^v2 from api-/);
    // Once it is applied, the build target comes from the controller: the same code is the
    // same version, so nothing is built and nothing rolls out.
    await p.ok("apply");
    await p.ok("wait", "--timeout", "60s");
    const same = await p.ok("deploy", "api", "--wait");
    expect(same.stdout).toMatch(/this code was built and pushed before/);
    expect(same.stdout).toMatch(/already runs release/);
    p.write("api/app.cjs", `${readFileSync(TEST_APP, "utf8")}\n// v4\n`);
    await p.ok("deploy", "api", "--wait", "--timeout", "90s");
    const v4 = (await releases(p)).releases[0]!;
    expect(v4.version).not.toBe(v3.version);
    expect(await releases(p)).toMatchObject({ deployed: v4.version, serving: v4.version });
    expect((await get(port)).body).toMatch(/^v2 from api-/);

    // A failing Dockerfile: the failing step and its output, nothing recorded.
    p.write(
      "api/Dockerfile",
      `FROM ${base}\nRUN echo "compiling"; echo "syntax error at line 3" >&2; exit 3\n`,
    );
    const failed = await p.run("build", "api");
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/error\[build\.failed\] building api failed at Step 2\/\d+: RUN/);
    expect(failed.stderr).toMatch(/returned a non-zero code: 3/);
    expect(failed.stderr).toMatch(/syntax error at line 3/);
    expect((await releases(p)).releases).toHaveLength(5);

    // With no controller, deploy records the release for the next `up`; an image the engine
    // lost since (pruned) is pulled back from the registry by its digest.
    await p.ok("down");
    const pinnedV2 = `${REGISTRY}/${REPOSITORY}@${v2.digest}`;
    await docker(["rmi", "-f", `${REGISTRY}/${REPOSITORY}:${v2.version}`, pinnedV2]);
    const recorded = await p.ok("deploy", "api", "--release", v2.version);
    expect(recorded.stdout).toMatch(/no controller runs .* `baton up` runs it/);
    p.write("api/Dockerfile", DOCKERFILE);
    await p.ok("up", "--detach");
    await p.ok("wait", "--timeout", "60s");
    expect((await get(port)).body).toMatch(/^v2 from api-/);
    for (const replica of api(await p.status()).replicas) expect(replica.image).toBe(pinnedV2);
  }, 420_000);

  it("is not built for a registry that is not there: a clear error, nothing recorded", async () => {
    const nowhere = await freePort();
    const unreachable = new Project(
      definition(await freePort(), "x").replace(REGISTRY, `127.0.0.1:${nowhere}`),
      { "api/Dockerfile": DOCKERFILE, "api/app.cjs": readFileSync(TEST_APP, "utf8") },
    );
    try {
      const failed = await unreachable.run("build", "api");
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(
        new RegExp(
          `error\\[registry\\.unreachable\\] no registry answers at http://127\\.0\\.0\\.1:${nowhere}/v2/ \\(ECONNREFUSED\\)`,
        ),
      );
      expect(failed.stderr).toMatch(/apt-get install docker-registry/);
      const listed = JSON.parse((await unreachable.ok("releases", "api", "--json")).stdout);
      expect(listed.releases).toEqual([]);
    } finally {
      await unreachable.cleanup();
    }
  }, 120_000);
});
