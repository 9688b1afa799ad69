/**
 * A state directory holds the API token, the definition's source and every record of what
 * runs where: only the user that runs Baton may read it. It is made 0700 at every start — an
 * existing one too, since older versions and `mkdir` by hand leave it 0755 (0711, set for
 * process apps that run as their own user, is kept) — and files made
 * readable by older versions lose their group and other bits. A folder that is not ours
 * cannot be made private: Baton refuses to run in it rather than run exposed.
 */
import { chmodSync, lstatSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { SandboxError } from "./errors.js";

/** Files Baton writes at the top of a state directory, made 0600 if an older version left them open. */
const TOP_FILES = [
  "state.db",
  "state.db-wal",
  "state.db-shm",
  "metrics.db",
  "metrics.db-wal",
  "metrics.db-shm",
  "proxy.log",
  "api-token",
  "api-port",
];
/** Folders of Baton's own files (not of apps: their logs and snapshots may be theirs to read). */
const TOP_FOLDERS = ["runs", "cache", "mirrors", "blobs"];

/** Creates the state directory if needed and makes it private; throws when it cannot be. */
export function makeStatePrivate(stateDir: string): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const me = process.getuid?.() ?? 0;
  const stats = statSync(stateDir);
  if (!stats.isDirectory()) {
    throw new SandboxError(
      "state.not_a_folder",
      `the state directory ${stateDir} should be a folder, found a file`,
      "pass another --state, or move the file away",
    );
  }
  // Root may chmod anything, but a folder another user owns is theirs to read and rewrite.
  if (stats.uid !== me) {
    throw new SandboxError(
      "state.not_private",
      `the state directory ${stateDir} belongs to uid ${stats.uid}, not to uid ${me} that runs Baton: it cannot be made private`,
      `run Baton as its owner, or give it to this user: chown -R ${me} ${stateDir}`,
    );
  }
  try {
    // Pass-through alone (0711) is left as it is: a process app that runs as its own `user:`
    // passes through to its snapshot and log (see runtime/process/run-as.ts), and without read
    // it can neither list the folder nor open a file whose mode is 0600. Anything with read
    // or write for others (0755 of `mkdir`) is made 0700.
    const passOnly = (stats.mode & 0o066) === 0 && (stats.mode & 0o700) === 0o700;
    if (!passOnly) chmodSync(stateDir, 0o700);
  } catch (error) {
    throw new SandboxError(
      "state.not_private",
      `the state directory ${stateDir} cannot be made private (chmod 0700): ${(error as Error).message}`,
      `make it 0700 yourself (chmod 0700 ${stateDir}), or pass a --state on a filesystem that keeps modes`,
    );
  }
  for (const name of TOP_FILES) closeOff(join(stateDir, name), 0o600);
  for (const name of TOP_FOLDERS) closeOff(join(stateDir, name), 0o700);
}

/** Drops group and other bits of a file or folder of ours that has them; links are left alone. */
export function closeOff(path: string, mode: number): void {
  let stats: ReturnType<typeof lstatSync>;
  try {
    stats = lstatSync(path);
  } catch {
    return;
  }
  if (stats.isSymbolicLink() || stats.uid !== (process.getuid?.() ?? 0)) return;
  if ((stats.mode & 0o077) !== 0) chmodSync(path, mode);
}
