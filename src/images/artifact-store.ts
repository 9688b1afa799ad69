/**
 * Artifacts of process apps: a read-only copy of an app's files per content digest, under
 * `<state>/artifacts/<app>/<sha256 hex>`. The folder's name is its content, so a folder that
 * exists is never written again, and two state directories holding the same name hold the
 * same bytes.
 */
import { randomBytes } from "node:crypto";
import { chmod, lstat, readdir, rename, rm } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { copyMode } from "../util/file-mode.js";
import { copyTree, TreeChangedError, type TreeOptions } from "../util/file-tree.js";
import { ImageError } from "./errors.js";

/** The folder of the state directory holding every app's artifacts. */
export const ARTIFACTS_FOLDER = "artifacts";

const HEX_DIGEST = /^[0-9a-f]{64}$/;
/** App names are DNS labels (definition/names.ts): nothing that could leave the artifacts folder. */
const SAFE_APP = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Where the artifact of `app` with content `hex` lives in `stateDir`. */
export function artifactDir(stateDir: string, app: string, hex: string): string {
  if (!SAFE_APP.test(app)) {
    throw new ImageError(
      "artifact.invalid_app",
      `${JSON.stringify(app)} is not an app name`,
      "app names are lower-case letters, digits and dashes",
    );
  }
  if (!HEX_DIGEST.test(hex)) throw invalidDigest(hex);
  return join(resolve(stateDir), ARTIFACTS_FOLDER, app, hex);
}

/** Whether `path` lies inside the artifacts folder of `stateDir`. */
export function isArtifactPath(stateDir: string, path: string): boolean {
  const inside = relative(join(resolve(stateDir), ARTIFACTS_FOLDER), resolve(path));
  return inside !== "" && inside !== ".." && !inside.startsWith(`..${sep}`) && !isAbsolute(inside);
}

/** The hex of a release digest: `sha256:<hex>` or the hex alone. */
export function digestHex(digest: string): string {
  const hex = digest.startsWith("sha256:") ? digest.slice("sha256:".length) : digest;
  if (!HEX_DIGEST.test(hex)) throw invalidDigest(digest);
  return hex;
}

/**
 * Copies `source` (filtered by `options`) into the artifact folder `dest` unless it exists,
 * and resolves to `dest`. The copy is made read-only before it is renamed into place, so the
 * folder is never seen incomplete or writable; with `expectedDigest`, a copy whose content
 * differs is discarded with a TreeChangedError.
 */
export async function storeArtifact(
  source: string,
  dest: string,
  options: TreeOptions & { readonly expectedDigest: string },
): Promise<string> {
  if (await exists(dest)) return dest;
  // Beside the destination, so the rename stays on one filesystem; the dot keeps it out of
  // any listing of an app's artifacts.
  const staging = join(dirname(dest), `.staging-${process.pid}-${randomBytes(6).toString("hex")}`);
  try {
    await copyTree(source, staging, options);
    await makeReadOnly(staging);
    try {
      await rename(staging, dest);
    } catch (error) {
      // Stored meanwhile by another build of the same content: the same bytes.
      if (!hasCode(error, "EEXIST", "ENOTEMPTY")) throw error;
      await removeArtifact(staging);
    }
    return dest;
  } catch (error) {
    await removeArtifact(staging).catch(() => undefined);
    throw error;
  }
}

export interface ImportArtifactOptions {
  /** The artifact folder of another state directory of this machine. */
  readonly fromDir: string;
  readonly stateDir: string;
  readonly app: string;
  /** The release's digest (`sha256:<hex>`): what the copy must hold. */
  readonly digest: string;
}

/**
 * Copies an artifact of another state directory into this one and resolves to its folder
 * here. The copy's content is hashed as read back and must equal `digest`: otherwise it is
 * discarded and an ImageError says the bytes differ. An artifact already here is reused.
 */
export async function importArtifact(options: ImportArtifactOptions): Promise<string> {
  const hex = digestHex(options.digest);
  const dest = artifactDir(options.stateDir, options.app, hex);
  try {
    return await storeArtifact(options.fromDir, dest, { expectedDigest: hex });
  } catch (error) {
    if (error instanceof TreeChangedError) {
      throw new ImageError(
        "artifact.digest_mismatch",
        // Never the content's digest: an answer must not tell what a folder holds (issue 19).
        `the files of ${options.fromDir} are not ${options.app}'s release sha256:${hex}: the bytes differ`,
        "import from the folder the release records (`baton releases APP --json`), unaltered, or build the release again",
      );
    }
    throw new ImageError(
      "artifact.import_failed",
      `could not import ${options.fromDir} as ${options.app}'s artifact: ${(error as Error).message}`,
      "check that the folder exists and is readable by the controller",
    );
  }
}

/**
 * Owner, group and others lose write permission on every file and directory, and nothing keeps
 * a setuid, setgid or sticky bit (copyTree drops them; this holds whatever made the copy).
 */
async function makeReadOnly(root: string): Promise<void> {
  for (const dirent of await readdir(root, { withFileTypes: true })) {
    const path = join(root, dirent.name);
    if (dirent.isDirectory()) await makeReadOnly(path);
    else if (dirent.isFile()) await chmod(path, copyMode((await lstat(path)).mode) & 0o555);
  }
  // The directory last: its entries could not be changed once it is read-only.
  await chmod(root, copyMode((await lstat(root)).mode) & 0o555);
}

/** A read-only tree is opened up first, so that removing it works without root. */
async function removeArtifact(path: string): Promise<void> {
  if (!(await exists(path))) return;
  await makeDirectoriesWritable(path);
  await rm(path, { recursive: true, force: true });
}

async function makeDirectoriesWritable(path: string): Promise<void> {
  await chmod(path, 0o700);
  for (const dirent of await readdir(path, { withFileTypes: true })) {
    if (dirent.isDirectory()) await makeDirectoriesWritable(join(path, dirent.name));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (hasCode(error, "ENOENT")) return false;
    throw error;
  }
}

function hasCode(error: unknown, ...codes: string[]): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && codes.includes(code);
}

function invalidDigest(digest: string): ImageError {
  return new ImageError(
    "artifact.invalid_digest",
    `${JSON.stringify(digest)} is not an artifact digest`,
    "an artifact's digest is sha256: followed by 64 hex digits, as `baton releases APP --json` shows",
  );
}
