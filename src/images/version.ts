import { execFile } from "node:child_process";

/** Characters of the commit and of the content digest in a version. */
const COMMIT_CHARS = 8;
const DIGEST_CHARS = 8;
/** Outside git the digest alone names the release: longer, as nothing else tells them apart. */
const DIGEST_ONLY_CHARS = 12;

/**
 * A release's version: `<commit>-<content>` in a git repository, `<content>` outside one.
 * The content digest covers uncommitted edits (no `-dirty` guess), and the same commit
 * and content always give the same version, so a second build of it is recognised.
 */
export function releaseVersion(commit: string | null, contentDigest: string): string {
  if (commit === null) return contentDigest.slice(0, DIGEST_ONLY_CHARS);
  return `${commit.slice(0, COMMIT_CHARS)}-${contentDigest.slice(0, DIGEST_CHARS)}`;
}

/** The commit checked out where `dir` is; null when it is not in a git work tree (or no git). */
export function gitCommit(dir: string): Promise<string | null> {
  return new Promise((done) => {
    execFile("git", ["-C", dir, "rev-parse", "--verify", "-q", "HEAD"], (error, stdout) => {
      const commit = stdout.trim();
      done(error === null && /^[0-9a-f]{40,64}$/.test(commit) ? commit : null);
    });
  });
}
