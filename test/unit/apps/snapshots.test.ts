import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SnapshotError, Snapshots } from "../../../src/apps/snapshots.js";
import { type AppSpec, parseDefinition } from "../../../src/definition/index.js";
import { BlobStore, readShippedDefinition } from "../../../src/store/index.js";
import { blobDigest, folderManifest, manifestBytes } from "../../../src/util/content-manifest.js";
import { treeDigest } from "../../../src/util/file-tree.js";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function project(): { dir: string; spec: () => AppSpec } {
  const dir = mkdtempSync(join(tmpdir(), "baton-snap-"));
  made.push(dir);
  mkdirSync(join(dir, "site"));
  writeFileSync(join(dir, "site", "config.txt"), "one\n");
  const file = join(dir, "baton.yaml");
  const text = "apps:\n  web:\n    command: x\n    cwd: site\n";
  writeFileSync(file, text);
  return { dir, spec: () => parseDefinition(text, file).apps.web as AppSpec };
}

describe("Snapshots", () => {
  it("copies an app's folder once per content, and never changes a copy", async () => {
    const { dir, spec } = project();
    const snapshots = new Snapshots(join(dir, ".baton"));
    const first = spec();
    const path = await snapshots.prepare("web", first);
    expect(path).toBe(snapshots.dir("web", first));
    expect(readFileSync(join(path, "config.txt"), "utf8")).toBe("one\n");
    expect(await snapshots.prepare("web", first)).toBe(path);

    writeFileSync(join(dir, "site", "config.txt"), "two\n");
    const second = spec();
    const other = await snapshots.prepare("web", second);
    expect(other).not.toBe(path);
    expect(readFileSync(join(path, "config.txt"), "utf8")).toBe("one\n");
    expect(readFileSync(join(other, "config.txt"), "utf8")).toBe("two\n");
  });

  it("refuses files that changed since the definition was read", async () => {
    const { dir, spec } = project();
    const snapshots = new Snapshots(join(dir, ".baton"));
    const read = spec();
    writeFileSync(join(dir, "site", "config.txt"), "edited meanwhile\n");
    await expect(snapshots.prepare("web", read)).rejects.toThrow(SnapshotError);
    await expect(snapshots.prepare("web", read)).rejects.toThrow(/changed while Baton copied/);
    expect(existsSync(snapshots.dir("web", read))).toBe(false);
  });

  it("prunes old snapshots except those kept and those just made", async () => {
    const { dir, spec } = project();
    const snapshots = new Snapshots(join(dir, ".baton"));
    const old = await snapshots.prepare("web", spec());
    writeFileSync(join(dir, "site", "config.txt"), "two\n");
    const kept = await snapshots.prepare("web", spec());
    writeFileSync(join(dir, "site", "config.txt"), "three\n");
    const fresh = await snapshots.prepare("web", spec());
    const anHourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(old, anHourAgo, anHourAgo);
    utimesSync(kept, anHourAgo, anHourAgo);

    await snapshots.prune("web", new Set([kept]));
    expect(existsSync(old)).toBe(false);
    expect(existsSync(kept)).toBe(true);
    expect(existsSync(fresh)).toBe(true);
  });
});

describe("Snapshots on a controller", () => {
  /** The app's folder uploaded as a client does, then gone from where the client had it. */
  async function uploaded(): Promise<{ spec: AppSpec; blobs: BlobStore; state: string }> {
    const dir = mkdtempSync(join(tmpdir(), "baton-snap-client-"));
    const state = mkdtempSync(join(tmpdir(), "baton-snap-state-"));
    made.push(dir, state);
    const site = join(dir, "site");
    mkdirSync(join(site, "conf"), { recursive: true });
    mkdirSync(join(site, "empty"));
    writeFileSync(join(site, "config.txt"), "one\n");
    writeFileSync(join(site, "run.sh"), "#!/bin/sh\n");
    chmodSync(join(site, "run.sh"), 0o750);
    writeFileSync(join(site, "conf", "app.ini"), "[app]\n");
    writeFileSync(join(site, "debug.log"), "left out\n");
    symlinkSync("config.txt", join(site, "current"));
    chmodSync(join(site, "conf"), 0o555);
    const file = join(dir, "baton.yaml");
    const source = 'apps:\n  web:\n    command: x\n    cwd: site\n    ignore: ["*.log"]\n';
    writeFileSync(file, source);
    const onDisk = treeDigest(site, { ignore: ["*.log"] });

    const blobs = new BlobStore(state);
    const manifest = folderManifest(site);
    for (const entry of manifest.entries) {
      if (entry.digest !== undefined) await blobs.putBytes(readFileSync(join(site, entry.path)));
    }
    const bytes = manifestBytes(manifest);
    await blobs.putBytes(bytes);
    chmodSync(join(site, "conf"), 0o755);
    rmSync(dir, { recursive: true, force: true });
    const content = { folders: { [site]: blobDigest(bytes) }, files: {} };
    const spec = readShippedDefinition({ file, source, content }, blobs, state).apps.web!;
    expect(spec.contentDigest).toBe(onDisk);
    return { spec, blobs, state };
  }

  it("makes a revision's copy from the uploaded files, never from the app's folder", async () => {
    const { spec, blobs, state } = await uploaded();
    const snapshots = new Snapshots(state, blobs);
    const path = await snapshots.prepare("web", spec);
    expect(path).toBe(snapshots.dir("web", spec));
    expect(treeDigest(path)).toBe(spec.contentDigest);
    expect(readFileSync(join(path, "config.txt"), "utf8")).toBe("one\n");
    expect(statSync(join(path, "run.sh")).mode & 0o777).toBe(0o750);
    expect(statSync(join(path, "conf")).mode & 0o777).toBe(0o555);
    expect(lstatSync(join(path, "current")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(path, "current"))).toBe("config.txt");
    expect(existsSync(join(path, "debug.log"))).toBe(false);
    expect(existsSync(join(path, "empty"))).toBe(true);
    // What a plan compares a new revision with, before the copy is made.
    const elsewhere = mkdtempSync(join(tmpdir(), "baton-snap-"));
    made.push(elsewhere);
    const planned = await new Snapshots(elsewhere, blobs).plannedEntries("web", spec);
    expect(planned?.has("conf/app.ini")).toBe(true);
    expect(planned?.has("debug.log")).toBe(false);
    chmodSync(join(path, "conf"), 0o755);
  });

  it("says so when a revision's files were never uploaded and its copy is gone", async () => {
    const { spec, blobs, state } = await uploaded();
    const { contentManifest: _, ...without } = spec;
    const snapshots = new Snapshots(state, blobs);
    await expect(snapshots.prepare("web", without)).rejects.toThrow(
      /no files of .*site were uploaded with the definition, and its snapshot .* is gone/,
    );
    await expect(snapshots.plannedEntries("web", without)).resolves.toBeUndefined();
  });
});
