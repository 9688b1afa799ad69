import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { StepCache } from "../../definition/pipeline-model.js";
import { closeTree, openTreeForReading } from "../../security/sandbox/index.js";
import { insideCheckout } from "./checkout-path.js";
import { copyTree } from "./tree-copy.js";

/** `<cacheRoot>/<pipeline>/<key>`, each part made a safe single file name. */
export function cacheDirOf(cacheRoot: string, pipeline: string, key: string): string {
  return join(cacheRoot, fileNameOf(pipeline), fileNameOf(key));
}

function fileNameOf(text: string): string {
  const encoded = encodeURIComponent(text);
  return encoded === "." || encoded === ".." ? encoded.replaceAll(".", "%2E") : encoded;
}

export interface CacheOutcome {
  /** One line per cache, for the log: what was restored or saved. */
  readonly notes: string[];
  readonly problems: string[];
}

/**
 * Caches are plain directory trees copied in and out of the checkout (see tree-copy.ts for
 * why copies and not hard links).
 *
 * Copies each cache that exists into the checkout at its path, beside what is already
 * there: files of the checkout win over cached ones.
 */
export async function restoreCaches(
  caches: readonly StepCache[],
  where: { checkout: string; cacheRoot: string; pipeline: string },
): Promise<CacheOutcome> {
  const notes: string[] = [];
  const problems: string[] = [];
  for (const cache of caches) {
    try {
      const target = insideCheckout(where.checkout, cache.path, "the cache path");
      const source = cacheDirOf(where.cacheRoot, where.pipeline, cache.key);
      if (!(await isDirectory(source))) {
        notes.push(`cache ${cache.key}: none yet (saved after the step passes)`);
        continue;
      }
      const started = Date.now();
      await copyTree(source, target);
      await openTreeForReading(target);
      notes.push(`cache ${cache.key}: restored into ${cache.path} in ${Date.now() - started} ms`);
    } catch (error) {
      problems.push(`cache ${cache.key} was not restored: ${messageOf(error)}`);
    }
  }
  return { notes, problems };
}

/**
 * Saves each cache path of the checkout as its cache: copied to a temp dir beside the
 * cache, then renamed over it, so a run restoring at the same time sees the old or the new
 * cache whole, or none, never half of one.
 */
export async function saveCaches(
  caches: readonly StepCache[],
  where: { checkout: string; cacheRoot: string; pipeline: string },
): Promise<CacheOutcome> {
  const notes: string[] = [];
  const problems: string[] = [];
  for (const cache of caches) {
    try {
      const source = insideCheckout(where.checkout, cache.path, "the cache path");
      if (!(await isDirectory(source))) {
        notes.push(
          `cache ${cache.key}: ${cache.path} is not a directory after the step, not saved`,
        );
        continue;
      }
      const started = Date.now();
      const target = cacheDirOf(where.cacheRoot, where.pipeline, cache.key);
      const suffix = `${process.pid}-${randomBytes(4).toString("hex")}`;
      const temp = `${target}.tmp-${suffix}`;
      const old = `${target}.old-${suffix}`;
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      try {
        await copyTree(source, temp);
        await closeTree(temp);
        const hadOne = await isDirectory(target);
        if (hadOne) await rename(target, old);
        await rename(temp, target);
      } finally {
        await rm(temp, { recursive: true, force: true });
        await rm(old, { recursive: true, force: true });
      }
      notes.push(`cache ${cache.key}: saved from ${cache.path} in ${Date.now() - started} ms`);
    } catch (error) {
      problems.push(`cache ${cache.key} was not saved: ${messageOf(error)}`);
    }
  }
  return { notes, problems };
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
