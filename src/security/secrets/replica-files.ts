/**
 * Secret files of replicas, on tmpfs so that a value never reaches a disk: one private
 * folder (0700) per replica under /dev/shm, the files at their path inside it. A process
 * replica is told the folder (`BATON_SECRETS_DIR`); a container gets each file bind-mounted
 * read-only at its path. The folders belong to one state directory, so that controllers of
 * other states never remove them.
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import type { AppSpec } from "../../definition/index.js";
import type { SecretFile } from "./unsealed.js";

/** tmpfs on every Linux; /run is the fallback where /dev/shm is missing. */
function root(): string {
  return existsSync("/dev/shm") ? "/dev/shm" : "/run";
}

export function secretFilesRoot(stateDir: string): string {
  const state = createHash("sha256").update(stateDir).digest("hex").slice(0, 16);
  return join(root(), `baton-secrets-${state}`);
}

/** Writes a replica's files; its folder, where each file is at its own path. */
export function writeReplicaFiles(
  stateDir: string,
  replica: string,
  files: readonly SecretFile[],
  owner?: { readonly uid: number; readonly gid: number },
): string {
  const top = secretFilesRoot(stateDir);
  mkdirSync(top, { recursive: true, mode: 0o711 });
  const dir = join(top, replica);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { mode: 0o700 });
  for (const file of files) {
    const path = join(dir, file.path);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, file.content, { mode: file.mode, flag: "wx" });
    // The umask may have narrowed it; the definition's mode is the mode.
    chmodSync(path, file.mode);
    if (owner !== undefined) chownSync(path, owner.uid, owner.gid);
  }
  return dir;
}

export function removeReplicaFiles(stateDir: string, replica: string): void {
  rmSync(join(secretFilesRoot(stateDir), replica), { recursive: true, force: true });
}

/** Removes the secret files of every replica of the state (`baton down`). */
export function removeAllReplicaFiles(stateDir: string): void {
  rmSync(secretFilesRoot(stateDir), { recursive: true, force: true });
}

/** Removes the folders of replicas not in `live`: those that exited or were stopped. */
export function pruneReplicaFiles(stateDir: string, live: ReadonlySet<string>): void {
  const top = secretFilesRoot(stateDir);
  let names: string[];
  try {
    names = readdirSync(top);
  } catch {
    return;
  }
  for (const name of names)
    if (!live.has(name)) rmSync(join(top, name), { recursive: true, force: true });
}

/**
 * Who a container replica runs as, when numeric (`uid[:gid]`): its secret files are made its
 * own, so that a 0400 file is readable by it and no one else. A user name cannot be resolved
 * outside the image: such files stay root's.
 */
export function containerOwner(app: AppSpec): { uid: number; gid: number } | undefined {
  const user = app.container?.user;
  const match = user === undefined ? null : /^(\d+)(?::(\d+))?$/.exec(user);
  if (match === null) return undefined;
  const uid = Number(match[1]);
  return { uid, gid: match[2] === undefined ? uid : Number(match[2]) };
}
