import { dirname } from "node:path";
import type { PipelineSource } from "../../definition/pipeline-model.js";
import { DeliveryError } from "../errors.js";
import { gitFailure } from "./git-failure.js";
import { gitDirOf } from "./resolve-branch.js";
import { runGit } from "./run-git.js";
import { checkCommitId, locateSource } from "./source-location.js";

/*
 * Questions about the order of commits, answered from the repository or the remote's mirror
 * as it was last fetched (a resolve fetches; these do not).
 */

/**
 * Whether `ancestor` is `descendant` or one of its ancestors: a run of `descendant`
 * supersedes one of `ancestor`. False for unrelated commits (after a force-push).
 */
export async function isAncestor(
  source: PipelineSource,
  ancestor: string,
  descendant: string,
  mirrorRoot: string,
): Promise<boolean> {
  checkCommitId(ancestor);
  checkCommitId(descendant);
  const location = locateSource(source, mirrorRoot);
  const gitDir = gitDirOf(location);
  const result = await runGit(["-C", gitDir, "merge-base", "--is-ancestor", ancestor, descendant], {
    ceiling: dirname(gitDir),
  });
  if (result.code === 0) return true;
  if (result.code === 1) return false;
  throw unknownCommitOr(result, location.shown, `${ancestor} and ${descendant}`);
}

/**
 * The commits reachable from `to` and not from `from`, newest first: what a push brought
 * (`from` the old head, `to` the new one).
 */
export async function commitsSince(
  source: PipelineSource,
  from: string,
  to: string,
  mirrorRoot: string,
): Promise<string[]> {
  checkCommitId(from);
  checkCommitId(to);
  const location = locateSource(source, mirrorRoot);
  const gitDir = gitDirOf(location);
  const result = await runGit(["-C", gitDir, "rev-list", `${from}..${to}`, "--"], {
    ceiling: dirname(gitDir),
  });
  if (result.code !== 0) throw unknownCommitOr(result, location.shown, `${from}..${to}`);
  return result.stdout.split("\n").filter((line) => line !== "");
}

function unknownCommitOr(
  result: { code: number; stdout: string; stderr: string },
  shown: string,
  commits: string,
): DeliveryError {
  if (
    /not a valid commit|bad revision|unknown revision|not a valid object|bad object/i.test(
      result.stderr,
    )
  ) {
    return new DeliveryError(
      "commit-not-found",
      `${shown} does not have ${commits}`,
      `resolve the branch again (a remote's mirror may predate them), or check with git -C REPO cat-file -t COMMIT`,
    );
  }
  return gitFailure(result, shown, `comparing ${commits}`);
}
