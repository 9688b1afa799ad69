import { describe, expect, it } from "vitest";
import { isRemoteRepo, mirrorDirFor, redactUrl } from "../../../src/delivery/index.js";

describe("sources", () => {
  it("tells a remote from a path", () => {
    expect(isRemoteRepo("https://git.example.com/team/app.git")).toBe(true);
    expect(isRemoteRepo("ssh://git@git.example.com/team/app.git")).toBe(true);
    expect(isRemoteRepo("git@git.example.com:team/app.git")).toBe(true);
    expect(isRemoteRepo("file:///srv/git/app.git")).toBe(true);
    expect(isRemoteRepo("/srv/git/app.git")).toBe(false);
    expect(isRemoteRepo("/srv/git/user@host:odd")).toBe(false);
  });

  it("names a mirror by the URL's hash, not by the URL", () => {
    const dir = mirrorDirFor("https://bot:token@git.example.com/app.git", "/state/mirrors");
    expect(dir).toMatch(/^\/state\/mirrors\/[0-9a-f]{24}\.git$/);
    expect(dir).not.toContain("token");
    expect(mirrorDirFor("https://git.example.com/app.git", "/m")).not.toBe(
      mirrorDirFor("https://git.example.com/other.git", "/m"),
    );
  });

  it("hides a URL's password", () => {
    expect(
      redactUrl("fatal: unable to access 'https://bot:gh_abc123@git.example.com/app.git/'"),
    ).toBe("fatal: unable to access 'https://bot:***@git.example.com/app.git/'");
    expect(redactUrl("https://git.example.com/app.git")).toBe("https://git.example.com/app.git");
    expect(redactUrl("ssh://git@git.example.com/app.git")).toBe(
      "ssh://git@git.example.com/app.git",
    );
  });
});
