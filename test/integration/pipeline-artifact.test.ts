/**
 * A pipeline that releases a process app: a commit to the definition's own repository is
 * tested, its app folder stored as a content-addressed artifact (recorded as a release with
 * the commit) and deployed to the controller's environment through a rollout — the replicas
 * then run in the artifact's folder itself and the change is served through the proxy.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, Project } from "../helpers/cli.js";
import { git } from "../helpers/git.js";
import { get } from "../helpers/http.js";
import { promotionProject } from "../helpers/promotion.js";
import { eventually } from "../helpers/wait.js";

let project: Project | undefined;
afterAll(async () => {
  if (project === undefined) return;
  // Artifacts are read-only: opened up, so that the folder can be removed without root too.
  execFileSync("chmod", ["-R", "u+w", project.dir]);
  await project.run("down", "--env", "prod");
  await project.cleanup();
});

/** Says what greeting.txt held when the replica started: the files it runs. */
const SERVER = `const http = require("node:http");
const greeting = require("node:fs").readFileSync("greeting.txt", "utf8").trim();
if (greeting === "broken") process.exit(1);
const replica = process.env.BATON_REPLICA ?? "local";
http
  .createServer((req, res) => res.end(greeting + " from " + replica + "\\n"))
  .listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
`;

interface ReleasesJson {
  deployed: string | null;
  serving: string | null;
  releases: { version: string; kind: string; digest: string; commit: string; image: string }[];
}

describe("a pipeline that builds a process app", () => {
  it("releases the commit's files as an artifact, rolls dev out to run them, and promotes the same bytes to prod", async () => {
    const port = await freePort();
    const prodPort = await freePort();
    project = new Project(
      promotionProject({
        name: "artifacts",
        port,
        prodPort,
        update: "{ healthyDeadline: 5s, drainTimeout: 2s }",
        steps: [
          "- { name: test, run: test -s greeting.txt }",
          "- { name: files, build: web }",
          "- { name: dev, deploy: { app: web, env: dev } }",
          "- { name: prod, promote: { app: web, to: prod } }",
        ],
      }),
      { ".gitignore": ".baton/\n.baton-prod/\n", "server.cjs": SERVER, "greeting.txt": "v1\n" },
    );
    const p = project;
    git(p.dir, "init", "-q", "-b", "main");
    git(p.dir, "add", "-A");
    git(p.dir, "commit", "-q", "-m", "v1");
    // No release yet: the app runs its folder, as any process app.
    await p.ok("up", "--detach", "--env", "dev");
    await p.ok("wait", "--timeout", "60s");
    await p.ok("up", "--detach", "--env", "prod");
    await p.ok("wait", "--env", "prod", "--timeout", "60s");
    expect((await get(port)).body).toMatch(/^v1 from web-/);
    expect((await get(prodPort)).body).toMatch(/^v1 from web-/);

    p.write("greeting.txt", "v2\n");
    git(p.dir, "commit", "-q", "-am", "say v2");
    const commit = git(p.dir, "rev-parse", "HEAD");
    const started = Date.now();
    const run = await p.run("run", "web", "--wait", "--timeout", "3m");
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/files passed: release [0-9a-f]{8}-[0-9a-f]{8}/);
    expect(run.stdout).toMatch(/dev passed: web [0-9a-f-]+ in dev/);
    expect(run.stdout).toMatch(/prod passed: web [0-9a-f-]+ in prod/);
    await eventually(
      "the proxy serves v2",
      () => get(port),
      (r) => /^v2 from web-/.test(r.body),
      30_000,
    );
    console.log(`pipeline run to v2 served: ${Date.now() - started} ms`);

    const listed = JSON.parse((await p.ok("releases", "web", "--json")).stdout) as ReleasesJson;
    const release = listed.releases[0];
    expect(listed.releases).toHaveLength(1);
    expect(release).toMatchObject({ kind: "artifact", commit });
    expect(release?.version.slice(0, 8)).toBe(commit.slice(0, 8));
    const hex = release?.digest.replace(/^sha256:/, "") ?? "";
    expect(release?.image).toBe(join(p.stateDir, "artifacts", "web", hex));
    expect(listed.deployed).toBe(release?.version);
    expect(listed.serving).toBe(release?.version);

    // The replica runs in the artifact itself: the very bytes released.
    const artifact = release?.image ?? "";
    expect(existsSync(join(artifact, "greeting.txt"))).toBe(true);
    // The definition is no part of the app's files, as in its content digest.
    expect(existsSync(join(artifact, "baton.yaml"))).toBe(false);
    const status = await p.status();
    const ready = (status.apps.find((a) => a.name === "web")?.replicas ?? []).filter(
      (r) => r.state === "ready",
    );
    expect(ready.length).toBeGreaterThan(0);
    for (const replica of ready) expect(readlinkSync(`/proc/${replica.pid}/cwd`)).toBe(artifact);

    // Promoted: prod's controller holds a copy of the same bytes (verified by digest) and runs it.
    expect((await get(prodPort)).body).toMatch(/^v2 from web-/);
    const inProd = JSON.parse(
      (await p.ok("releases", "web", "--env", "prod", "--json")).stdout,
    ) as ReleasesJson;
    const prodArtifact = join(p.path(".baton-prod"), "artifacts", "web", hex);
    expect(inProd.deployed).toBe(release?.version);
    expect(inProd.releases[0]).toMatchObject({
      version: release?.version,
      digest: release?.digest,
      kind: "artifact",
      commit,
      image: prodArtifact,
    });
    const prodStatus = JSON.parse((await p.ok("status", "--env", "prod", "--json")).stdout) as {
      apps: { name: string; replicas: { state: string; pid: number }[] }[];
    };
    const prodReady = (prodStatus.apps.find((a) => a.name === "web")?.replicas ?? []).filter(
      (r) => r.state === "ready",
    );
    expect(prodReady.length).toBeGreaterThan(0);
    for (const replica of prodReady) {
      expect(readlinkSync(`/proc/${replica.pid}/cwd`)).toBe(prodArtifact);
    }

    // A release whose replicas never become ready is rolled back: v2 goes on serving.
    p.write("greeting.txt", "broken\n");
    git(p.dir, "commit", "-q", "-am", "break it");
    const failed = await p.run("run", "web", "--wait", "--timeout", "3m");
    expect(failed.code, failed.stdout + failed.stderr).not.toBe(0);
    expect(failed.stdout).toMatch(/files passed: release/);
    expect(failed.stdout + failed.stderr).toMatch(/dev failed: .*rolled back/);
    await eventually(
      "the broken release's rollout has ended",
      () => p.status(),
      (s) => {
        const app = s.apps.find((a) => a.name === "web");
        return app?.rollout === undefined || app.rollout.state !== "in-progress";
      },
      30_000,
    );
    expect((await get(port)).body).toMatch(/^v2 from web-/);
    const after = JSON.parse((await p.ok("releases", "web", "--json")).stdout) as ReleasesJson;
    expect(after.releases).toHaveLength(2);
    expect(after.serving).toBe(release?.version);
  }, 240_000);
});
