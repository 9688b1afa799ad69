import { describe, expect, it } from "vitest";
import { gitFailure } from "../../../src/delivery/git/git-failure.js";

const repo = "https://bot:***@git.example.com/app.git";

function classify(stderr: string) {
  return gitFailure({ code: 128, stdout: "", stderr }, repo, "fetching its mirror");
}

describe("gitFailure", () => {
  it.each([
    [
      "remote: Repository not found.\nfatal: repository 'https://git.example.com/app.git/' not found",
      "repo-not-found",
    ],
    ["fatal: '/srv/git/app.git' does not appear to be a git repository", "repo-not-found"],
    [
      "fatal: could not read Username for 'https://git.example.com': terminal prompts disabled",
      "auth-failed",
    ],
    ["git@git.example.com: Permission denied (publickey).", "auth-failed"],
    ["Host key verification failed.\nfatal: Could not read from remote repository.", "auth-failed"],
    [
      "fatal: unable to access 'https://git.example.com/app.git/': Could not resolve host: git.example.com",
      "remote-unreachable",
    ],
    ["fatal: detected dubious ownership in repository at '/srv/git/app.git'", "repo-unsafe"],
    ["fatal: something new", "git-failed"],
  ])("%s → %s", (stderr, code) => {
    const error = classify(stderr);
    expect(error.code).toBe(code);
    expect(error.message).toContain(repo);
    expect(error.hint).toBeTruthy();
  });

  it("never repeats a password git printed", () => {
    const error = classify(
      "fatal: unable to access 'https://bot:ghp_secret@git.example.com/app.git/': The requested URL returned error: 500",
    );
    expect(error.message).not.toContain("ghp_secret");
  });
});
