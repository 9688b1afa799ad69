import { mkdir, rm } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import type { PipelineSource } from "../../spec/pipeline-model.js";
import { DeliveryError } from "../errors.js";
import { gitFailure } from "./git-failure.js";
import { gitDirOf } from "./resolve-branch.js";
import { runGit } from "./run-git.js";
import { checkCommitId, locateSource } from "./source-location.js";

/**
 * A clean checkout of exactly `commit` in `dir`: whatever `dir` held before (a previous run,
 * a half-done checkout) is removed first. The clone borrows the objects of the repository
 * (or of the remote's mirror) instead of copying them, so it costs the files written, not
 * the history. No hook of the repository or of the machine's git templates runs, and
 * submodules are left out.
 *
 * For a remote source the commit must already be in its mirror: resolve the branch first.
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
  if (checkedOut.code === 0) return;
  await rm(dir, { recursive: true, force: true });
  if (
    /reference is not a tree|did not match|unknown revision|bad object/i.test(checkedOut.stderr)
  ) {
    throw new DeliveryError(
      "commit-not-found",
      `${location.shown} has no commit ${commit}`,
      location.kind === "remote"
        ? `the mirror may predate it: resolve the branch again, or check with git ls-remote ${location.shown}`
        : `git -C ${location.shown} cat-file -t ${commit}`,
    );
  }
  throw gitFailure(checkedOut, location.shown, `checking out ${commit}`);
}
