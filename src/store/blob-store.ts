/**
 * Content-addressed blobs in the state directory, `<state>/blobs/sha256/<ab>/<hex>`: the
 * files of the folders clients applied, and the manifests describing those folders. A blob
 * is written once under the digest of its bytes, checked as it arrives, and never changed.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, utimesSync } from "node:fs";
import { type FileHandle, open, readdir, rename, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ContentError } from "../util/content-errors.js";
import { BLOB_DIGEST } from "../util/content-manifest.js";

/** A blob larger than this is refused: an app's files are code and config, not data sets. */
export const MAX_BLOB_BYTES = 1024 * 1024 * 1024;

export interface PutResult {
  readonly size: number;
  /** false: the blob was there already. */
  readonly created: boolean;
}

export class BlobStore {
  readonly root: string;

  constructor(stateDir: string) {
    this.root = join(resolve(stateDir), "blobs");
  }

  /** Where the blob `digest` (`sha256:<hex>`) is, whether or not it is there. */
  path(digest: string): string {
    const hex = hexOf(digest);
    return join(this.root, "sha256", hex.slice(0, 2), hex);
  }

  has(digest: string): boolean {
    return existsSync(this.path(digest));
  }

  /**
   * The digests of `digests` that are not here. Those that are count as just used: a sweep
   * leaves them for a while, so the apply that follows this question finds them.
   */
  missing(digests: readonly string[]): string[] {
    const now = new Date();
    const missing: string[] = [];
    for (const digest of new Set(digests)) {
      const path = this.path(digest);
      try {
        utimesSync(path, now, now);
      } catch {
        missing.push(digest);
      }
    }
    return missing;
  }

  /** The blob's bytes; throws a ContentError naming `what` when it is not here. */
  read(digest: string, what: string): Buffer {
    try {
      return readFileSync(this.path(digest));
    } catch {
      throw new ContentError(
        "content.blob_missing",
        `${what} was not uploaded: the controller has no blob ${digest}`,
        "upload the blobs `POST /api/v1/blobs/missing` names before applying (the CLI does)",
      );
    }
  }

  /**
   * Stores the bytes of `body` as the blob `digest`, refusing them (and keeping nothing)
   * when they are larger than `maxBytes` or do not hash to the digest.
   */
  async put(
    digest: string,
    body: AsyncIterable<Buffer | string> | Iterable<Buffer>,
    maxBytes = MAX_BLOB_BYTES,
  ): Promise<PutResult> {
    const target = this.path(digest);
    const temp = join(this.root, "tmp", `${randomBytes(8).toString("hex")}.part`);
    mkdirSync(join(this.root, "tmp"), { recursive: true, mode: 0o700 });
    const hash = createHash("sha256");
    let size = 0;
    let handle: FileHandle | undefined = await open(temp, "wx", 0o600);
    try {
      for await (const chunk of body) {
        const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
        size += bytes.length;
        if (size > maxBytes) throw tooLarge(digest, maxBytes);
        hash.update(bytes);
        await handle.write(bytes);
      }
      await handle.sync();
      await handle.close();
      handle = undefined;
      const found = `sha256:${hash.digest("hex")}`;
      if (found !== digest) {
        throw new ContentError(
          "content.digest_mismatch",
          `the ${size} bytes uploaded as ${digest} hash to ${found}`,
          "upload a blob under the sha256 of its bytes; a file that changed while it was read must be read again",
        );
      }
      if (existsSync(target)) {
        await rm(temp, { force: true });
        return { size, created: false };
      }
      mkdirSync(join(target, ".."), { recursive: true, mode: 0o700 });
      await rename(temp, target);
      return { size, created: true };
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** Stores bytes already in memory (a manifest); see `put`. */
  putBytes(bytes: Buffer): Promise<PutResult> {
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    return this.put(digest, [bytes]);
  }

  /**
   * Removes every blob not in `keep` that was neither written nor asked about for `minAgeMs`
   * (an upload for an apply under way is not known to `keep` yet), and what an interrupted
   * upload left. Resolves to how many blobs were removed.
   */
  async sweep(keep: ReadonlySet<string>, minAgeMs: number, now = Date.now()): Promise<number> {
    let removed = 0;
    const old = async (path: string): Promise<boolean> => {
      const stats = await stat(path).catch(() => undefined);
      return stats !== undefined && now - stats.mtimeMs >= minAgeMs;
    };
    const shards = join(this.root, "sha256");
    for (const shard of await readdir(shards).catch(() => [])) {
      for (const hex of await readdir(join(shards, shard)).catch(() => [])) {
        const path = join(shards, shard, hex);
        if (keep.has(`sha256:${hex}`) || !(await old(path))) continue;
        await rm(path, { force: true });
        removed++;
      }
    }
    for (const name of await readdir(join(this.root, "tmp")).catch(() => [])) {
      const path = join(this.root, "tmp", name);
      if (await old(path)) await rm(path, { force: true });
    }
    return removed;
  }
}

function hexOf(digest: string): string {
  if (!BLOB_DIGEST.test(digest)) {
    throw new ContentError(
      "content.invalid_digest",
      `${JSON.stringify(digest)} is not a blob digest`,
      "name blobs `sha256:` and the 64 lowercase hex characters of their sha256",
    );
  }
  return digest.slice("sha256:".length);
}

function tooLarge(digest: string, maxBytes: number): ContentError {
  return new ContentError(
    "content.too_large",
    `blob ${digest} is larger than ${maxBytes} bytes, the most a controller takes`,
    "leave large data out of the app's folder with `ignore:` and keep it in a volume or a path of its own",
  );
}
