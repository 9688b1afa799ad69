/**
 * Issue 19: `POST /api/v1/releases` imported any folder the controller could read as a
 * promoted artifact, and a digest mismatch answered with the folder's real digest. It now
 * imports only from the artifact store of an environment the definition declares, and a
 * mismatch names no digest but the one the caller sent. Through the API of a real controller.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { artifactDir, storeArtifact } from "../../src/images/artifact-store.js";
import { treeDigest } from "../../src/util/file-tree.js";
import { freePort, Project } from "../helpers/cli.js";

let project: Project | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await project?.run("down", "--env", "prod");
  await project?.cleanup();
  project = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const SERVER = `require("node:http").createServer((q, s) => s.end("up\\n")).listen(Number(process.env.PORT), "127.0.0.1");\n`;

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly body: { error?: { code?: string; message?: string }; release?: { ref?: string } };
}

/** Starts prod's controller of a dev → prod project; its API as a caller with its token sees it. */
async function prod(): Promise<{ p: Project; post: (body: unknown) => Promise<Answer> }> {
  const devPort = await freePort();
  const prodPort = await freePort();
  project = new Project(
    `environments:
  dev: {}
  prod: { state: .baton-prod, overrides: { apps: { web: { port: ${prodPort} } } } }
apps:
  web:
    command: ["node", "server.cjs"]
    cwd: site
    port: ${devPort}
`,
    { "site/server.cjs": SERVER },
  );
  const p = project;
  await p.ok("up", "--env", "prod", "--detach");
  await p.ok("wait", "--env", "prod", "--timeout", "30s");
  const state = join(p.dir, ".baton-prod");
  const status = JSON.parse((await p.ok("status", "--env", "prod", "--json")).stdout) as {
    controller: { api: string };
  };
  const api = status.controller.api;
  const token = readFileSync(join(state, "api-token"), "utf8").trim();
  const post = async (body: unknown): Promise<Answer> => {
    const res = await fetch(`${api}/api/v1/releases`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text) as Answer["body"] };
  };
  return { p, post };
}

function release(version: string, ref: string, digest: string, environment = "dev") {
  return {
    release: {
      app: "web",
      version,
      kind: "artifact",
      ref,
      digest,
      commit: null,
      definitionRevision: "r1",
      createdAt: Date.now(),
      createdBy: "dev's pipeline",
      details: {},
    },
    from: { environment, pipeline: "web", run: 1 },
  };
}

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "baton-release-"));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

describe("POST /api/v1/releases", () => {
  it("imports an artifact only from a declared environment's artifact store", async () => {
    const { p, post } = await prod();
    // Any folder the controller can read, with its true digest: once imported, deployable.
    const loot = folder({ id_ed25519: "-----BEGIN OPENSSH PRIVATE KEY-----\n" });
    const lootDigest = `sha256:${treeDigest(loot)}`;
    const foreign = await post(release("stolen", loot, lootDigest));
    expect(foreign.status).toBe(400);
    expect(foreign.body.error?.code).toBe("release.invalid_source");
    expect(foreign.body.error?.message).toContain("is not in dev's artifact store");

    // From an environment the definition does not declare.
    const undeclared = await post(release("stolen-2", loot, lootDigest, "staging"));
    expect(undeclared.status).toBe(400);
    expect(undeclared.body.error?.message).toContain(
      '"staging", which this definition does not declare',
    );

    // The declared peer's store (dev's `.baton/`) is where a promotion copies from.
    const site = folder({ "server.cjs": SERVER });
    const hex = treeDigest(site);
    const stored = artifactDir(join(p.dir, ".baton"), "web", hex);
    mkdirSync(join(p.dir, ".baton", "artifacts", "web"), { recursive: true });
    await storeArtifact(site, stored, { expectedDigest: hex });
    const promoted = await post(release("v1", stored, `sha256:${hex}`));
    expect(promoted.status).toBe(200);
    expect(promoted.body.release?.ref).toBe(artifactDir(join(p.dir, ".baton-prod"), "web", hex));
  });

  it("answers a digest mismatch without the digest of what it found", async () => {
    const { p, post } = await prod();
    const claimed = "a".repeat(64);
    // A folder in dev's store under a name its content does not hash to.
    const dir = artifactDir(join(p.dir, ".baton"), "web", claimed);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "config"), "password=hunter2\n");
    const real = treeDigest(dir);

    const answer = await post(release("v1", dir, `sha256:${claimed}`));
    expect(answer.status).toBe(409);
    expect(answer.body.error?.code).toBe("artifact.digest_mismatch");
    expect(answer.body.error?.message).toContain("the bytes differ");
    expect(answer.text).not.toContain(real);
    expect(readFileSync(join(p.dir, ".baton-prod", "state.db")).includes(real)).toBe(false);
  });
});
