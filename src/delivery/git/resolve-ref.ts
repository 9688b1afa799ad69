import { dirname } from "node:path";
import type { PipelineSource } from "../../definition/pipeline-model.js";
import { DeliveryError } from "../errors.js";
import { gitFailure } from "./git-failure.js";
import { refreshMirror } from "./mirror.js";
import { type BranchHead, gitDirOf, type ResolveOptions } from "./resolve-branch.js";
import { runGit } from "./run-git.js";
import { locateSource } from "./source-location.js";

/**
 * The commit a ref names in the source's repository — a branch, a tag, a commit id or
 * `main~2` — for a run started by hand (`baton run PIPELINE --ref REF`). A remote is fetched
 * into its mirror first.
 */
export async function resolveRef(
  source: PipelineSource,
  ref: string,
  mirrorRoot: string,
  options: ResolveOptions = {},
): Promise<BranchHead> {
  if (ref === "" || ref.startsWith("-") || /[\s\0]/.test(ref)) {
    throw new DeliveryError(
      "commit-invalid",
      `'${ref}' is not a ref: name a branch, a tag or a commit id`,
      "for example --ref main, --ref v1.2.0 or --ref 3f2c1ab",
    );
  }
  const location = locateSource(source, mirrorRoot);
  if (location.kind === "remote") await refreshMirror(location, options.timeoutMs);
  const gitDir = gitDirOf(location);
  const shown = await runGit(
    [
      "-C",
      gitDir,
      "log",
      "-1",
      "--no-walk",
      "--format=%H%x00%ct%x00%an%x00%s",
      `${ref}^{commit}`,
      "--",
    ],
    { ceiling: dirname(gitDir) },
  );
  if (shown.code !== 0) {
    if (
      /unknown revision|bad revision|ambiguous argument|bad object|not a valid/i.test(shown.stderr)
    ) {
      throw new DeliveryError(
        "commit-not-found",
        `${location.shown} has no commit, branch or tag '${ref}'`,
        `git ls-remote ${location.shown} lists its branches and tags`,
      );
    }
    throw gitFailure(shown, location.shown, `resolving ${ref}`);
  }
  const [commit = "", at = "0", author = "", subject = ""] = shown.stdout
    .replace(/\n$/, "")
    .split("\0");
  return { commit, subject, author, at: Number(at) * 1000 };
}
