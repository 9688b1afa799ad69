/**
 * Process apps' releases: a git repository's app folder stored as a content-addressed,
 * read-only artifact, recorded as a release, imported into another state directory only when
 * its bytes are the release's, and run by the app once it is the chosen release.
 */
import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Snapshots } from "../../../src/apps/snapshots.js";
import { type AppSpec, type Definition, parseDefinition } from "../../../src/definition/index.js";
import {
  buildArtifactRelease,
  ImageError,
  importArtifact,
  resolveReleases,
} from "../../../src/images/index.js";
import { SqliteStore } from "../../../src/store/index.js";
import { git } from "../../helpers/git.js";

const made: string[] = [];
const stores: SqliteStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  // Artifacts are read-only: opened up first, so that the removal also works without root.
  for (const dir of made.splice(0)) {
    execFileSync("chmod", ["-R", "u+w", dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});

function temp(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

const DEFINITION = `apps:
  web:
    command: [node, server.js]
    ignore: ["*.log", tmp/]
`;

/** A git repository holding a process app at its root, committed; `.baton` is its state. */
function repository(): { dir: string; stateDir: string; definition: () => Definition } {
  const dir = temp("baton-artifact-repo-");
  const files: Record<string, string> = {
    "baton.yaml": DEFINITION,
    ".gitignore": ".baton/\n",
    "server.js": "console.log('v1')\n",
    "lib/greeting.txt": "hello\n",
  };
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  git(dir, "init", "-q", "-b", "main");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "v1");
  const file = join(dir, "baton.yaml");
  return {
    dir,
    stateDir: join(dir, ".baton"),
    definition: () => parseDefinition(readFileSync(file, "utf8"), file),
  };
}

function open(stateDir: string): SqliteStore {
  const store = SqliteStore.open(stateDir, { create: true });
  stores.push(store);
  return store;
}

function web(definition: Definition): AppSpec {
  return definition.apps.web as AppSpec;
}

/** Every file and directory below `dir`, the root included, with its mode. */
function modes(dir: string): number[] {
  const found = [statSync(dir).mode];
  for (const name of readdirSync(dir, { recursive: true, encoding: "utf8" })) {
    found.push(statSync(join(dir, name)).mode);
  }
  return found;
}

describe("artifact releases of process apps", () => {
  it("store the app's files as the definition hashes them, read-only, versioned by commit", async () => {
    const repo = repository();
    // Left out as the definition leaves them out of the app's content.
    writeFileSync(join(repo.dir, "debug.log"), "noise\n");
    mkdirSync(join(repo.dir, "tmp"));
    writeFileSync(join(repo.dir, "tmp", "scratch"), "x\n");
    const spec = web(repo.definition());
    const store = open(repo.stateDir);
    const commit = git(repo.dir, "rev-parse", "HEAD");

    const { release, created } = await buildArtifactRelease({
      app: "web",
      spec,
      sourceDir: repo.dir,
      stateDir: repo.stateDir,
      releases: store.releases,
      commit,
      definitionRevision: "d".repeat(64),
      createdBy: "pipeline release #1",
      details: { run: 1 },
    });

    expect(created).toBe(true);
    expect(release).toMatchObject({
      app: "web",
      kind: "artifact",
      digest: `sha256:${spec.contentDigest}`,
      ref: join(repo.stateDir, "artifacts", "web", spec.contentDigest),
      version: `${commit.slice(0, 8)}-${spec.contentDigest.slice(0, 8)}`,
      commit,
      details: { run: 1, contentDigest: spec.contentDigest },
    });
    expect(readdirSync(release.ref, { recursive: true, encoding: "utf8" }).sort()).toEqual([
      ".gitignore",
      "lib",
      "lib/greeting.txt",
      "server.js",
    ]);
    expect(readFileSync(join(release.ref, "server.js"), "utf8")).toBe("console.log('v1')\n");
    for (const mode of modes(release.ref)) expect(mode & 0o222).toBe(0);
    // Nothing half-made is left beside it.
    expect(readdirSync(join(repo.stateDir, "artifacts", "web"))).toEqual([spec.contentDigest]);
  });

  it("give the same content the same folder, and a version once recorded its first record", async () => {
    const repo = repository();
    const store = open(repo.stateDir);
    const first = git(repo.dir, "rev-parse", "HEAD");
    // A clone elsewhere holds the same files: its definition file is left out as well.
    const clone = join(temp("baton-artifact-clone-"), "checkout");
    git(repo.dir, "clone", "-q", repo.dir, clone);
    const build = (sourceDir: string, commit: string, by: string) =>
      buildArtifactRelease({
        app: "web",
        spec: web(repo.definition()),
        sourceDir,
        stateDir: repo.stateDir,
        releases: store.releases,
        commit,
        definitionRevision: "d".repeat(64),
        createdBy: by,
      });

    const one = await build(repo.dir, first, "first");
    const again = await build(clone, first, "second");
    expect(again.created).toBe(false);
    expect(again.release).toEqual(one.release);

    // Another commit that changes nothing of the app: a new version of the same bytes.
    writeFileSync(join(repo.dir, "baton.yaml"), `${DEFINITION}    replicas: 2\n`);
    git(repo.dir, "commit", "-q", "-am", "scale");
    const second = git(repo.dir, "rev-parse", "HEAD");
    const scaled = await build(repo.dir, second, "third");
    expect(scaled.created).toBe(true);
    expect(scaled.release.version).not.toBe(one.release.version);
    expect(scaled.release.ref).toBe(one.release.ref);

    writeFileSync(join(repo.dir, "server.js"), "console.log('v2')\n");
    const edited = await build(repo.dir, second, "fourth");
    expect(edited.release.ref).not.toBe(one.release.ref);
    expect(readFileSync(join(one.release.ref, "server.js"), "utf8")).toBe("console.log('v1')\n");
    expect(readFileSync(join(edited.release.ref, "server.js"), "utf8")).toBe("console.log('v2')\n");
    expect(store.releases.list("web").map((r) => r.createdBy)).toEqual([
      "fourth",
      "third",
      "first",
    ]);
  });

  it("are imported into another state directory only with the release's bytes", async () => {
    const repo = repository();
    const store = open(repo.stateDir);
    const { release } = await buildArtifactRelease({
      app: "web",
      spec: web(repo.definition()),
      sourceDir: repo.dir,
      stateDir: repo.stateDir,
      releases: store.releases,
      commit: null,
      definitionRevision: "d".repeat(64),
      createdBy: "me",
    });
    expect(release.version).toBe(release.digest.slice("sha256:".length, "sha256:".length + 12));
    const prodState = join(temp("baton-artifact-prod-"), "state");

    const imported = await importArtifact({
      fromDir: release.ref,
      stateDir: prodState,
      app: "web",
      digest: release.digest,
    });
    expect(imported).toBe(join(prodState, "artifacts", "web", release.digest.slice(7)));
    expect(readFileSync(join(imported, "lib", "greeting.txt"), "utf8")).toBe("hello\n");
    for (const mode of modes(imported)) expect(mode & 0o222).toBe(0);
    // Already there: reused as it is.
    expect(
      await importArtifact({
        fromDir: release.ref,
        stateDir: prodState,
        app: "web",
        digest: release.digest,
      }),
    ).toBe(imported);

    const altered = join(temp("baton-artifact-altered-"), "web");
    cpSync(release.ref, altered, { recursive: true });
    execFileSync("chmod", ["-R", "u+w", altered]);
    writeFileSync(join(altered, "server.js"), "console.log('tampered')\n");
    const otherState = join(temp("baton-artifact-other-"), "state");
    const refused = await importArtifact({
      fromDir: altered,
      stateDir: otherState,
      app: "web",
      digest: release.digest,
    }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ImageError);
    expect((refused as ImageError).code).toBe("artifact.digest_mismatch");
    expect((refused as ImageError).message).toMatch(/the bytes differ/);
    // Nothing was kept of the refused copy.
    expect(readdirSync(join(otherState, "artifacts", "web"))).toEqual([]);

    const invalid = await importArtifact({
      fromDir: release.ref,
      stateDir: otherState,
      app: "web",
      digest: "sha256:../../etc",
    }).catch((error: unknown) => error);
    expect((invalid as ImageError).code).toBe("artifact.invalid_digest");
  });

  it("are what a process app runs once chosen, and a missing one is named", async () => {
    const repo = repository();
    const store = open(repo.stateDir);
    const given = repo.definition();
    // No artifact release: the app runs its folder as written.
    expect(resolveReleases(given, store.releases)).toBe(given);

    writeFileSync(join(repo.dir, "server.js"), "console.log('v2')\n");
    const { release } = await buildArtifactRelease({
      app: "web",
      spec: web(given),
      sourceDir: repo.dir,
      stateDir: repo.stateDir,
      releases: store.releases,
      commit: null,
      definitionRevision: given.hash,
      createdBy: "me",
    });
    const hex = release.digest.slice("sha256:".length);
    const pinned = web(resolveReleases(given, store.releases));
    expect(pinned).toMatchObject({ cwd: release.ref, contentDigest: hex });
    expect(web(given).contentDigest).not.toBe(hex);
    // Replicas run in the artifact itself, not in a copy of it.
    const snapshots = new Snapshots(repo.stateDir);
    expect(await snapshots.prepare("web", pinned)).toBe(release.ref);
    expect(snapshots.dir("web", pinned)).toBe(release.ref);
    expect(existsSync(join(repo.stateDir, "snapshots"))).toBe(false);

    execFileSync("chmod", ["-R", "u+w", release.ref]);
    rmSync(release.ref, { recursive: true });
    let missing: unknown;
    try {
      resolveReleases(given, store.releases);
    } catch (error) {
      missing = error;
    }
    expect(missing).toBeInstanceOf(ImageError);
    expect((missing as ImageError).code).toBe("release.artifact_missing");
    expect((missing as ImageError).message).toContain(release.ref);
  });
});
