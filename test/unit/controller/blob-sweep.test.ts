import { mkdtempSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KEPT_GENERATIONS, sweepBlobs } from "../../../src/controller/blob-sweep.js";
import { BlobStore, SqliteStore } from "../../../src/store/index.js";
import { blobDigest, manifestBytes } from "../../../src/util/content-manifest.js";

let state: string | undefined;
let store: SqliteStore | undefined;
afterEach(() => {
  store?.close();
  if (state !== undefined) rmSync(state, { recursive: true, force: true });
  store = undefined;
  state = undefined;
});

/** A folder of one file, uploaded: its manifest's digest and its file's. */
async function folder(blobs: BlobStore, text: string): Promise<{ manifest: string; file: string }> {
  const file = blobDigest(text);
  await blobs.putBytes(Buffer.from(text));
  const bytes = manifestBytes({
    mode: 0o755,
    entries: [{ path: "a.txt", kind: "file", mode: 0o644, size: text.length, digest: file }],
  });
  await blobs.putBytes(bytes);
  return { manifest: blobDigest(bytes), file };
}

describe("the sweep of uploaded blobs", () => {
  it("keeps the last generations' content and the kept revisions', and removes the rest", async () => {
    state = mkdtempSync(join(tmpdir(), "baton-sweep-"));
    store = SqliteStore.open(state, { create: true });
    const blobs = new BlobStore(state);
    const rolledBack = await folder(blobs, "the revision a rollback may need\n");
    const forgotten = await folder(blobs, "an old generation's\n");
    const current = await folder(blobs, "what runs now\n");
    const template = blobDigest("motd\n");
    await blobs.putBytes(Buffer.from("motd\n"));
    const stray = blobDigest("uploaded, never applied\n");
    await blobs.putBytes(Buffer.from("uploaded, never applied\n"));

    const generation = (manifest: string, n: number) =>
      store!.recordGeneration({
        hash: `h${n}`,
        file: "/p/baton.yaml",
        source: "apps: {}",
        appliedBy: "ann",
        content: { folders: { "/p/site": manifest }, files: { "/p/motd": template } },
      });
    generation(rolledBack.manifest, 0);
    generation(forgotten.manifest, 1);
    for (let n = 2; n < 2 + KEPT_GENERATIONS; n++) generation(current.manifest, n);
    store.rollouts.saveRevision("web", "aaaaaaaaaaaa", { contentManifest: rolledBack.manifest });
    store.rollouts.start({
      app: "web",
      from: null,
      to: "aaaaaaaaaaaa",
      trigger: "apply",
      by: "ann",
    });

    const all = [rolledBack, forgotten, current].flatMap((f) => [f.manifest, f.file]);
    // Just uploaded: an apply referring to them may be on its way.
    expect(await sweepBlobs(store, blobs, ["web"])).toBe(0);
    const longAgo = new Date(Date.now() - 2 * 3_600_000);
    for (const digest of [...all, template, stray])
      utimesSync(blobs.path(digest), longAgo, longAgo);

    expect(await sweepBlobs(store, blobs, ["web"])).toBe(3);
    expect(blobs.has(stray)).toBe(false);
    expect([forgotten.manifest, forgotten.file].map((d) => blobs.has(d))).toEqual([false, false]);
    for (const digest of [
      rolledBack.manifest,
      rolledBack.file,
      current.manifest,
      current.file,
      template,
    ]) {
      expect(blobs.has(digest)).toBe(true);
    }
  });
});
