import { existsSync } from "node:fs";
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { closeOff, closeTree } from "../../security/sandbox/index.js";
import { gitFailure } from "./git-failure.js";
import { runGit } from "./run-git.js";

export interface MirrorTarget {
  readonly url: string;
  readonly mirrorDir: string;
  readonly shown: string;
}

/** Per mirror, the tail of the operations on it: two fetches into one mirror would race on its locks. */
const mirrorTails = new Map<string, Promise<unknown>>();

function serialised<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = mirrorTails.get(key) ?? Promise.resolve();
  const next = previous.then(work, work);
  const tail = next.catch(() => undefined);
  mirrorTails.set(key, tail);
  void tail.then(() => {
    if (mirrorTails.get(key) === tail) mirrorTails.delete(key);
  });
  return next;
}

/**
 * Brings the mirror of a remote up to date: cloned (`--mirror`) the first time, fetched with
 * `--prune` after, so a branch deleted or force-pushed upstream is so here too.
 */
export function refreshMirror(target: MirrorTarget, timeoutMs?: number): Promise<void> {
  return serialised(target.mirrorDir, async () => {
    const options = timeoutMs === undefined ? {} : { timeoutMs };
    if (existsSync(target.mirrorDir)) {
      const fetched = await runGit(
        ["--git-dir", target.mirrorDir, "fetch", "--prune", "--quiet", "origin"],
        options,
      );
      if (fetched.code !== 0) throw gitFailure(fetched, target.shown, "fetching its mirror");
      // The one file a fetch writes past core.sharedRepository.
      closeOff(join(target.mirrorDir, "FETCH_HEAD"), 0o600);
      return;
    }
    const root = dirname(target.mirrorDir);
    await mkdir(root, { recursive: true, mode: 0o700 });
    // Cloned beside, renamed when whole: a clone cut short never passes for a mirror.
    const partialPrefix = `${basename(target.mirrorDir)}.partial-`;
    for (const entry of await readdir(root)) {
      // Left by a controller killed while cloning.
      if (entry.startsWith(partialPrefix))
        await rm(join(root, entry), { recursive: true, force: true });
    }
    const partial = join(root, `${partialPrefix}${process.pid}`);
    const cloned = await runGit(
      // Like all under the state directory, the controller's user's only, fetches included.
      [
        "clone",
        "--mirror",
        "--quiet",
        "--template=",
        "-c",
        "core.sharedRepository=0600",
        "--",
        target.url,
        partial,
      ],
      options,
    );
    if (cloned.code !== 0) {
      await rm(partial, { recursive: true, force: true });
      throw gitFailure(cloned, target.shown, "cloning its mirror");
    }
    await closeTree(partial);
    await rename(partial, target.mirrorDir);
  });
}
