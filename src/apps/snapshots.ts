import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import {
  chmod,
  constants,
  copyFile,
  lstat,
  mkdir,
  readdir,
  rename,
  rm,
  stat,
  symlink,
} from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { BatonError } from "../api/errors.js";
import type { AppSpec } from "../definition/index.js";
import type { BlobStore } from "../store/index.js";
import {
  contentDigest,
  entriesByPath,
  type ManifestEntry,
  parseManifest,
  selectEntries,
} from "../util/content-manifest.js";
import { copyMode } from "../util/file-mode.js";
import { copyTree, TreeChangedError, type TreeEntry, treeEntries } from "../util/file-tree.js";

/** Digest characters in a snapshot's folder name: 96 bits, unique for any real history. */
const NAME_LENGTH = 24;
/** A snapshot younger than this is never pruned: an apply may be about to use it. */
const RECENT_MS = 10 * 60_000;
/** Files written at once while a snapshot is made from blobs. */
const WRITES_AT_ONCE = 16;

/**
 * Immutable copies of app folders, one per content digest, under `<state>/snapshots/<app>/`.
 * A revision's replicas run from its copy, so editing the app's folder never changes a
 * running revision, and a rollback runs the files the old revision ran.
 *
 * On a controller (`blobs` given) a copy is made from the manifest and blobs the client
 * uploaded, never from the app's folder, which is on the client's disk. Without, it is copied
 * from the folder (a definition read from this machine's disk).
 */
export class Snapshots {
  private readonly making = new Map<string, Promise<string>>();

  private readonly stateDir: string;

  constructor(
    stateDir: string,
    private readonly blobs?: BlobStore,
  ) {
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
      making = this.make(spec, dir).finally(() => this.making.delete(dir));
      this.making.set(dir, making);
    }
    return making;
  }

  /**
   * The entries of `spec`'s folder as its snapshot holds (or will hold) them, to say which
   * files a new revision changes; undefined when they cannot be known.
   */
  async plannedEntries(app: string, spec: AppSpec): Promise<Map<string, TreeEntry> | undefined> {
    const dir = this.dir(app, spec);
    if (existsSync(dir)) return treeEntries(dir);
    if (spec.contentManifest !== undefined && this.blobs !== undefined) {
      return entriesByPath(this.uploaded(spec, this.blobs).entries);
    }
    if (this.blobs !== undefined) return undefined;
    return treeEntries(spec.cwd, {
      ignore: spec.ignore,
      exclude: [...spec.contentExclude, this.stateDir],
    });
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

  private async make(spec: AppSpec, dir: string): Promise<string> {
    // Content-addressed: a snapshot that exists holds these very files.
    if (existsSync(dir)) return dir;
    if (this.blobs === undefined) return this.copy(spec, dir);
    if (spec.contentManifest === undefined) {
      throw new SnapshotError(
        "snapshot.not_uploaded",
        `no files of ${spec.cwd} were uploaded with the definition, and its snapshot ${dir} is gone; apply the definition again`,
      );
    }
    try {
      await this.fromBlobs(spec, this.blobs, dir);
    } catch (error) {
      if (error instanceof SnapshotError) throw error;
      throw new SnapshotError(
        "snapshot.copy_failed",
        `could not make the snapshot of ${spec.cwd} from its uploaded files: ${(error as Error).message}`,
      );
    }
    return dir;
  }

  /** The uploaded folder's manifest, and the entries of it `spec`'s content is made of. */
  private uploaded(spec: AppSpec, blobs: BlobStore): { mode: number; entries: ManifestEntry[] } {
    const manifest = parseManifest(
      blobs.read(spec.contentManifest ?? "", `the manifest of ${spec.cwd}`),
    );
    const entries = selectEntries(manifest, spec.cwd, {
      ignore: spec.ignore,
      exclude: spec.contentExclude,
    });
    return { mode: manifest.mode, entries };
  }

  /**
   * Writes the folder the manifest describes into a sibling temp dir renamed into place:
   * directories first, then files (copied from their blobs, a reflink where the filesystem
   * has them) and links, then the modes, read-only ones last.
   */
  private async fromBlobs(spec: AppSpec, blobs: BlobStore, dir: string): Promise<void> {
    const { mode, entries } = this.uploaded(spec, blobs);
    const found = contentDigest(entries);
    if (found !== spec.contentDigest) {
      throw new SnapshotError(
        "snapshot.changed",
        `the files uploaded for ${spec.cwd} have content ${found.slice(0, 12)}, not the ${spec.contentDigest.slice(0, 12)} the definition was read with; apply again`,
      );
    }
    await mkdir(dirname(dir), { recursive: true });
    const temp = `${dir}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`;
    await mkdir(temp, { mode: 0o700 });
    try {
      for (const entry of entries) {
        if (entry.kind === "dir") await mkdir(join(temp, entry.path), { mode: 0o700 });
      }
      await eachLimit(
        entries.filter((e) => e.kind !== "dir"),
        async (entry) => {
          const to = join(temp, entry.path);
          if (entry.kind === "symlink") return symlink(entry.target ?? "", to);
          await copyFile(blobs.path(entry.digest ?? ""), to, constants.COPYFILE_FICLONE);
          await chmod(to, copyMode(entry.mode));
        },
      );
      const directories = entries.filter((e) => e.kind === "dir").reverse();
      for (const entry of directories) await chmod(join(temp, entry.path), copyMode(entry.mode));
      await chmod(temp, copyMode(mode));
      try {
        await rename(temp, dir);
      } catch (error) {
        // Another maker of the same content won the race; its snapshot is as good as ours.
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== "EEXIST" && code !== "ENOTEMPTY") throw error;
        await removeTree(temp);
      }
    } catch (error) {
      await removeTree(temp);
      throw error;
    }
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

type SnapshotErrorCode = "snapshot.changed" | "snapshot.copy_failed" | "snapshot.not_uploaded";

/** The app's files could not be copied into a snapshot: the user fixes or saves them. */
export class SnapshotError extends BatonError {
  override name = "SnapshotError";
  declare readonly code: SnapshotErrorCode;

  constructor(code: SnapshotErrorCode, message: string) {
    super(code, message);
  }
}

/**
 * Runs `work` over `items`, a few at a time. After a failure no new item starts, and those
 * running are awaited: nothing may still write into a folder about to be removed.
 */
async function eachLimit<T>(items: readonly T[], work: (item: T) => Promise<unknown>) {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      try {
        await work(items[next++]!);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const workers = Array.from({ length: Math.min(WRITES_AT_ONCE, items.length) }, worker);
  const failure = (await Promise.allSettled(workers)).find(
    (result): result is PromiseRejectedResult => result.status === "rejected",
  );
  if (failure !== undefined) throw failure.reason;
}

/** A half-made snapshot may hold read-only directories: opened up before it is removed. */
async function removeTree(path: string): Promise<void> {
  const open = async (dir: string): Promise<void> => {
    await chmod(dir, 0o700).catch(() => undefined);
    for (const name of await readdir(dir).catch(() => [])) {
      const inner = join(dir, name);
      if ((await lstat(inner).catch(() => undefined))?.isDirectory()) await open(inner);
    }
  };
  await open(path);
  await rm(path, { recursive: true, force: true }).catch(() => undefined);
}
