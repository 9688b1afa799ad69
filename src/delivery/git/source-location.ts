import { createHash } from "node:crypto";
import { isAbsolute, join } from "node:path";
import type { PipelineSource } from "../../definition/pipeline-model.js";
import { DeliveryError } from "../errors.js";
import { redactUrl } from "./redact.js";

/**
 * Where git reads a source from: a repository on this machine is read in place; a remote one
 * through a mirror kept under the mirror root, fetched before each resolve.
 */
export type SourceLocation =
  | { readonly kind: "path"; readonly gitDir: string; readonly shown: string }
  | {
      readonly kind: "remote";
      readonly url: string;
      readonly mirrorDir: string;
      readonly shown: string;
    };

const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
/** scp-like ssh syntax: `git@host:team/app.git`. */
const SCP_LIKE = /^[^/\s:@]+@[^/\s:]+:\S+$/;

export function isRemoteRepo(repo: string): boolean {
  return URL_SCHEME.test(repo) || SCP_LIKE.test(repo);
}

/** The mirror's folder: one per URL, named by its hash (a URL is no file name, and may hold a token). */
export function mirrorDirFor(url: string, mirrorRoot: string): string {
  const digest = createHash("sha256").update(url).digest("hex").slice(0, 24);
  return join(mirrorRoot, `${digest}.git`);
}

export function locateSource(source: PipelineSource, mirrorRoot: string): SourceLocation {
  const repo = source.repo;
  if (isRemoteRepo(repo)) {
    return {
      kind: "remote",
      url: repo,
      mirrorDir: mirrorDirFor(repo, mirrorRoot),
      shown: redactUrl(repo),
    };
  }
  if (!isAbsolute(repo) || repo.startsWith("-")) {
    throw new DeliveryError(
      "repo-invalid",
      `pipeline source repo '${redactUrl(repo)}' is neither an absolute path nor an ssh/https URL`,
      "give a path (relative ones are resolved against the definition's folder) or a URL such as https://host/team/app.git",
    );
  }
  return { kind: "path", gitDir: repo, shown: repo };
}

/** Branch names reach git as arguments: one that reads as an option or a range is refused here. */
export function checkBranchName(source: PipelineSource): void {
  const branch = source.branch;
  if (
    branch === "" ||
    branch.startsWith("-") ||
    branch.startsWith("refs/") ||
    /[\s~^:?*[\\\0]|\.\.|@\{|\/\/|\.lock$|\/$|^\/|\.$/.test(branch)
  ) {
    throw new DeliveryError(
      "branch-invalid",
      `'${branch}' is not a valid branch name (pipeline source ${redactUrl(source.repo)})`,
      "name the branch as `git branch` lists it, e.g. main",
    );
  }
}

const COMMIT_ID = /^[0-9a-f]{7,64}$/;

export function checkCommitId(commit: string): void {
  if (!COMMIT_ID.test(commit)) {
    throw new DeliveryError(
      "commit-invalid",
      `'${commit}' is not a commit id (7 to 64 lowercase hex digits)`,
      "use the commit a resolve returned, or `git rev-parse REF` in the repository",
    );
  }
}
