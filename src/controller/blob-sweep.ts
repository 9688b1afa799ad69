/**
 * Which uploaded blobs a state directory still needs, and the removal of the rest: the
 * content of the last generations (a controller started again reads its definition back
 * from the latest) and of every app revision whose snapshot is kept (a rollback may need its
 * snapshot made again). The controller sweeps once it has started, and after each apply
 * that records a new generation.
 */
import { KEPT_ROLLOUTS } from "../apps/apps-reconciler.js";
import type { AppSpec, DefinitionContent } from "../definition/index.js";
import type { BlobStore, SqliteStore } from "../store/index.js";
import { fileDigests, parseManifest } from "../util/content-manifest.js";

/** Generations whose content is kept. */
export const KEPT_GENERATIONS = 10;
/**
 * Blobs written or asked about more recently than this are kept whatever refers to them:
 * a client uploads them before the apply that refers to them arrives.
 */
export const SWEEP_MIN_AGE_MS = 60 * 60_000;

/** The blobs the last generations and the kept revisions of `apps` refer to. */
export function blobsInUse(
  store: SqliteStore,
  blobs: BlobStore,
  apps: readonly string[],
): Set<string> {
  const keep = new Set<string>();
  const manifest = (digest: string): void => {
    keep.add(digest);
    try {
      for (const file of fileDigests(parseManifest(blobs.read(digest, digest)))) keep.add(file);
    } catch {
      // Gone or unreadable: nothing of it to keep.
    }
  };
  const content = (c: DefinitionContent | null): void => {
    for (const digest of Object.values(c?.folders ?? {})) manifest(digest);
    for (const digest of Object.values(c?.files ?? {})) keep.add(digest);
  };
  for (const generation of store.generations(KEPT_GENERATIONS)) content(generation.content);
  for (const app of apps) {
    const revisions = new Set<string>();
    for (const rollout of store.rollouts.history(app, KEPT_ROLLOUTS)) {
      revisions.add(rollout.toRevision);
      if (rollout.fromRevision !== null) revisions.add(rollout.fromRevision);
    }
    for (const revision of revisions) {
      const stored = store.rollouts.revision(app, revision);
      if (stored === undefined) continue;
      const spec = JSON.parse(stored.spec) as Partial<AppSpec>;
      if (typeof spec.contentManifest === "string") manifest(spec.contentManifest);
    }
  }
  return keep;
}

/** Removes the blobs nothing keeps; resolves to how many. */
export function sweepBlobs(
  store: SqliteStore,
  blobs: BlobStore,
  apps: readonly string[],
): Promise<number> {
  return blobs.sweep(blobsInUse(store, blobs, apps), SWEEP_MIN_AGE_MS);
}
