import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pushMatches } from "../../../src/delivery/index.js";

const root = mkdtempSync(join(tmpdir(), "baton-push-match-"));
const repo = join(root, "app.git");
mkdirSync(repo);
const link = join(root, "link.git");
symlinkSync(repo, link);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const commit = "a".repeat(40);
const zero = "0".repeat(40);

describe("pushMatches", () => {
  it("matches the source's branch in the repository pushed to", () => {
    const notice = { repo, ref: "refs/heads/main", old: zero, new: commit };
    expect(pushMatches({ repo, branch: "main" }, notice)).toBe(true);
    expect(pushMatches({ repo: link, branch: "main" }, notice)).toBe(true);
    expect(pushMatches({ repo: `file://${repo}`, branch: "main" }, notice)).toBe(true);
  });

  it("does not match another branch, a tag, another repository, a deletion or a remote URL", () => {
    const notice = { repo, ref: "refs/heads/main", old: commit, new: commit };
    expect(pushMatches({ repo, branch: "dev" }, notice)).toBe(false);
    expect(pushMatches({ repo, branch: "main" }, { ...notice, ref: "refs/tags/main" })).toBe(false);
    expect(pushMatches({ repo: join(root, "other.git"), branch: "main" }, notice)).toBe(false);
    expect(pushMatches({ repo, branch: "main" }, { ...notice, new: zero })).toBe(false);
    expect(pushMatches({ repo: "ssh://git@host/app.git", branch: "main" }, notice)).toBe(false);
  });
});
