import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { PipelineSource } from "../../definition/pipeline-model.js";
import { DeliveryError } from "../errors.js";
import { gitFailure } from "./git-failure.js";
import { refreshMirror } from "./mirror.js";
import { gitDirOf } from "./resolve-branch.js";
import { runGit } from "./run-git.js";
import { checkCommitId, locateSource, type SourceLocation } from "./source-location.js";

/**
 * A clean checkout of exactly `commit` in `dir`: whatever `dir` held before (a previous run,
 * a half-done checkout) is removed first. The clone borrows the objects of the repository
 * (or of the remote's mirror) instead of copying them, so it costs the files written, not
 * the history. No hook of the repository or of the machine's git templates runs, and
 * submodules are left out.
 *
 * For a remote source the mirror is used as last fetched, and fetched once more if the
 * commit is not in it yet.
 */
export async function checkout(
  source: PipelineSource,
  commit: string,
  dir: string,
  mirrorRoot: string,
): Promise<void> {
  checkCommitId(commit);
  if (!isAbsolute(dir) || resolve(dir) === "/") {
    throw new Error(`checkout folder must be an absolute path below /, not '${dir}'`);
  }
  const location = locateSource(source, mirrorRoot);
  if (location.kind === "remote" && !existsSync(location.mirrorDir)) {
    await refreshMirror(location);
  }
  const missing = await cloneAndCheckout(location, commit, dir);
  if (missing === undefined) return;
  if (location.kind === "remote") {
    // The commit may be newer than the mirror's last fetch (a run started by hand): fetch once.
    await refreshMirror(location);
    if ((await cloneAndCheckout(location, commit, dir)) === undefined) return;
  }
  throw missing;
}

/** Undefined when done; the error when the commit is not in the repository or mirror. */
async function cloneAndCheckout(
  location: SourceLocation,
  commit: string,
  dir: string,
): Promise<DeliveryError | undefined> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dirname(dir), { recursive: true });
  const cloned = await runGit(
    ["clone", "--no-checkout", "--shared", "--quiet", "--template=", "--", gitDirOf(location), dir],
    { ceiling: dirname(gitDirOf(location)) },
  );
  if (cloned.code !== 0) throw gitFailure(cloned, location.shown, `cloning ${commit} for a run`);
  const checkedOut = await runGit([
    "-C",
    dir,
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "advice.detachedHead=false",
    "checkout",
    "--quiet",
    "--detach",
    commit,
  ]);
  if (checkedOut.code === 0) return undefined;
  await rm(dir, { recursive: true, force: true });
  if (
    /reference is not a tree|did not match|unknown revision|bad object/i.test(checkedOut.stderr)
  ) {
    return new DeliveryError(
      "commit-not-found",
      `${location.shown} has no commit ${commit}`,
      location.kind === "remote"
        ? `it was not there after a fetch either: check with git ls-remote ${location.shown} and git fetch`
        : `git -C ${location.shown} cat-file -t ${commit}`,
    );
  }
  throw gitFailure(checkedOut, location.shown, `checking out ${commit}`);
}

/**
 * Makes a checkout's repository stand alone, as `clone --dissociate` does: the objects it
 * borrows are copied in and the borrowing dropped. For a checkout handed to a step's user,
 * who cannot read the repository or mirror it borrowed from (a state directory, a private
 * project folder), so that `git log` or `git describe` in a step still work.
 */
export async function detachObjects(dir: string): Promise<void> {
  const repacked = await runGit(["-C", dir, "repack", "-a", "-d", "-q"]);
  if (repacked.code !== 0) throw gitFailure(repacked, dir, "copying the objects of a checkout");
  await rm(join(dir, ".git", "objects", "info", "alternates"), { force: true });
}
