/**
 * Where a run's checkout — the working folder of its steps — lives: outside every state
 * directory, so that a step's `../..` never reaches a controller's files. A root controller
 * keeps them under /var/lib/baton-steps (0711: a step user can reach its own run's folder by
 * name, never list the others); an ordinary one under $TMPDIR/baton-steps-<uid> (0700). One
 * folder per state directory (a hash of its path), one per run inside it; the run's folder
 * belongs to the step's user while its steps run.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, lstat, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SandboxError } from "./errors.js";
import type { StepIdentity } from "./step-user.js";

export const ROOT_WORKSPACES = "/var/lib/baton-steps";

/** The folder that holds every state directory's run folders on this host. */
export function workspacesRoot(): string {
  const uid = process.getuid?.() ?? 0;
  return uid === 0 ? ROOT_WORKSPACES : join(tmpdir(), `baton-steps-${uid}`);
}

/** The folders of one state directory's runs. */
export function stateWorkspaces(stateDir: string): string {
  const key = createHash("sha256").update(resolve(stateDir)).digest("hex").slice(0, 16);
  return join(workspacesRoot(), key);
}

/** Run `runId`'s folder: its checkout, the working directory of its steps. */
export function runWorkspace(stateDir: string, runId: number): string {
  return join(stateWorkspaces(stateDir), String(runId));
}

/**
 * Makes the folders above a run's folder exist, ours, not links, with their modes: a folder
 * someone else made first (in a shared /tmp) could be swapped under the run, so it is refused.
 */
export async function prepareWorkspaces(stateDir: string): Promise<void> {
  const traversable = (process.getuid?.() ?? 0) === 0 ? 0o711 : 0o700;
  for (const dir of [workspacesRoot(), stateWorkspaces(stateDir)]) {
    await mkdir(dir, { mode: traversable }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
    });
    const stats = await lstat(dir);
    const me = process.getuid?.() ?? 0;
    if (!stats.isDirectory() || stats.uid !== me) {
      throw new SandboxError(
        "step.workspace_not_ours",
        `${dir} should be a folder of uid ${me} for pipeline runs, found ${stats.isSymbolicLink() ? "a symbolic link" : stats.isDirectory() ? `a folder of uid ${stats.uid}` : "a file"}`,
        `remove it (rm -rf ${dir}) and run again: Baton makes it`,
      );
    }
    await chmod(dir, traversable);
  }
}

/** Host steps running in each run folder: the last one to end gives it back. */
const borrowers = new Map<string, number>();

/**
 * Gives a run's folder, with all it holds (a fresh checkout, restored caches), to the step's
 * user, private to it, until `takeBack`. Links are changed themselves, never followed.
 */
export async function handOver(dir: string, identity: StepIdentity): Promise<void> {
  borrowers.set(dir, (borrowers.get(dir) ?? 0) + 1);
  await chmod(dir, 0o700);
  await chownTree(dir, identity.uid, identity.gid, identity.name);
}

/**
 * Takes the run's folder back once no host step of the run runs in it any more, before the
 * controller reads its reports, artifacts and caches: a process the step left behind (one
 * that escaped its process group) can then no longer swap a file for a link to ours.
 */
export async function takeBack(dir: string): Promise<void> {
  const left = (borrowers.get(dir) ?? 1) - 1;
  if (left > 0) {
    borrowers.set(dir, left);
    return;
  }
  borrowers.delete(dir);
  await chownTree(dir, process.getuid?.() ?? 0, process.getgid?.() ?? 0, "the controller");
}

function chownTree(dir: string, uid: number, gid: number, who: string): Promise<void> {
  return new Promise<void>((done, fail) => {
    execFile(
      "chown",
      ["-R", "-P", "-h", `${uid}:${gid}`, "--", dir],
      { timeout: 120_000 },
      (error, _stdout, stderr) =>
        error === null
          ? done()
          : fail(new Error(`cannot give ${dir} to ${who}: ${stderr.trim() || error.message}`)),
    );
  });
}
