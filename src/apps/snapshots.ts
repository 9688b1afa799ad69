import { readdir, rm, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { BatonError } from "../api/errors.js";
import type { AppSpec } from "../definition/index.js";
import { copyTree, TreeChangedError } from "../util/file-tree.js";

/** Digest characters in a snapshot's folder name: 96 bits, unique for any real history. */
const NAME_LENGTH = 24;
/** A snapshot younger than this is never pruned: an apply may be about to use it. */
const RECENT_MS = 10 * 60_000;

/**
 * Immutable copies of app folders, one per content digest, under `<state>/snapshots/<app>/`.
 * A revision's replicas run from its copy, so editing the app's folder never changes a
 * running revision, and a rollback runs the files the old revision ran.
 */
export class Snapshots {
  private readonly making = new Map<string, Promise<string>>();

  private readonly stateDir: string;

  constructor(stateDir: string) {
    this.stateDir = resolve(stateDir);
  }

  dir(app: string, spec: AppSpec): string {
    // An artifact release (images/artifact-store.ts) is already an immutable copy named by its
    // content: replicas run the very bytes released, not a copy of them.
    if (this.isArtifact(spec)) return resolve(spec.cwd);
    return join(this.stateDir, "snapshots", app, spec.contentDigest.slice(0, NAME_LENGTH));
  }

  /** Makes the snapshot of `spec`'s content unless it exists; resolves to its folder. */
  prepare(app: string, spec: AppSpec): Promise<string> {
    const dir = this.dir(app, spec);
    if (this.isArtifact(spec)) return Promise.resolve(dir);
    let making = this.making.get(dir);
    if (making === undefined) {
      making = this.copy(spec, dir).finally(() => this.making.delete(dir));
      this.making.set(dir, making);
    }
    return making;
  }

  /** Removes the app's snapshots except those in `keep` (folders as `dir` names them). */
  async prune(app: string, keep: ReadonlySet<string>): Promise<void> {
    const root = join(this.stateDir, "snapshots", app);
    let names: string[];
    try {
      names = await readdir(root);
    } catch {
      return;
    }
    for (const name of names) {
      const dir = join(root, name);
      // Temporary folders of a copy in progress belong to that copy.
      if (keep.has(dir) || name.includes(".tmp-") || this.making.has(dir)) continue;
      // Just made for a definition being applied, not yet known to the caller's `keep`.
      const made = await stat(dir).catch(() => undefined);
      if (made === undefined || Date.now() - made.mtimeMs < RECENT_MS) continue;
      await rm(dir, { recursive: true, force: true });
    }
  }

  private isArtifact(spec: AppSpec): boolean {
    const inside = relative(join(this.stateDir, "artifacts"), resolve(spec.cwd));
    return inside !== "" && !inside.startsWith("..") && !isAbsolute(inside);
  }

  private async copy(spec: AppSpec, dir: string): Promise<string> {
    try {
      await copyTree(spec.cwd, dir, {
        ignore: spec.ignore,
        exclude: [...spec.contentExclude, this.stateDir],
        expectedDigest: spec.contentDigest,
      });
    } catch (error) {
      if (error instanceof TreeChangedError) {
        throw new SnapshotError(
          "snapshot.changed",
          `the files of ${spec.cwd} changed while Baton copied them (expected content ${error.expected.slice(0, 12)}, found ${error.found.slice(0, 12)}); apply again once they are saved`,
        );
      }
      throw new SnapshotError(
        "snapshot.copy_failed",
        `could not copy ${spec.cwd} into a snapshot: ${(error as Error).message}`,
      );
    }
    return dir;
  }
}

/** The app's files could not be copied into a snapshot: the user fixes or saves them. */
export class SnapshotError extends BatonError {
  override name = "SnapshotError";
  declare readonly code: "snapshot.changed" | "snapshot.copy_failed";

  constructor(code: "snapshot.changed" | "snapshot.copy_failed", message: string) {
    super(code, message);
  }
}
