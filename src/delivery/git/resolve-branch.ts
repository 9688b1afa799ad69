import { dirname } from "node:path";
import type { PipelineSource } from "../../definition/pipeline-model.js";
import { DeliveryError } from "../errors.js";
import { gitFailure } from "./git-failure.js";
import { refreshMirror } from "./mirror.js";
import { runGit } from "./run-git.js";
import { checkBranchName, locateSource, type SourceLocation } from "./source-location.js";

/** A branch's head commit, as a run records it. */
export interface BranchHead {
  readonly commit: string;
  readonly subject: string;
  readonly author: string;
  /** When it was committed (committer date), in ms since the epoch. */
  readonly at: number;
}

export interface ResolveOptions {
  /** A fetch from a remote is abandoned after this long (default 120 s). */
  readonly timeoutMs?: number;
}

/** The git directory reads go to: the repository itself, or the remote's mirror. */
export function gitDirOf(location: SourceLocation): string {
  return location.kind === "path" ? location.gitDir : location.mirrorDir;
}

const FIELD = "%00";

/**
 * The head of the source's branch. A repository on this machine (bare or working) is read
 * as it is; a remote one is fetched into its mirror under `mirrorRoot` first.
 */
export async function resolveBranch(
  source: PipelineSource,
  mirrorRoot: string,
  options: ResolveOptions = {},
): Promise<BranchHead> {
  checkBranchName(source);
  const location = locateSource(source, mirrorRoot);
  if (location.kind === "remote") await refreshMirror(location, options.timeoutMs);
  const ref = `refs/heads/${source.branch}`;
  // for-each-ref answers in one process, and with nothing (not an error) for a missing branch.
  const listed = await runGit(
    [
      "-C",
      gitDirOf(location),
      "for-each-ref",
      `--format=%(refname)${FIELD}%(objectname)${FIELD}%(committerdate:unix)${FIELD}%(authorname)${FIELD}%(subject)`,
      ref,
    ],
    { ceiling: dirname(gitDirOf(location)) },
  );
  if (listed.code !== 0)
    throw gitFailure(listed, location.shown, `reading branch ${source.branch}`);
  // The pattern also matches refs below it (refs/heads/main/x): keep the exact ref only.
  const line = listed.stdout.split("\n").find((entry) => entry.startsWith(`${ref}\0`));
  if (line === undefined) throw branchNotFound(source, location);
  const [, commit = "", at = "0", author = "", subject = ""] = line.split("\0");
  return { commit, subject, author, at: Number(at) * 1000 };
}

function branchNotFound(source: PipelineSource, location: SourceLocation): DeliveryError {
  return new DeliveryError(
    "branch-not-found",
    `${location.shown} has no branch '${source.branch}'`,
    `git ls-remote --heads ${location.shown} lists the branches it has; push the branch or fix the pipeline's source branch`,
  );
}
