import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { BuildSpec } from "../../../src/definition/index.js";
import { gitCommit, packContext, releaseVersion } from "../../../src/images/index.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function context(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "baton-context-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function spec(dir: string, extra: Partial<BuildSpec> = {}): BuildSpec {
  return {
    context: dir,
    dockerfile: "Dockerfile",
    args: {},
    labels: {},
    repository: "127.0.0.1:5000/p/api",
    ...extra,
  };
}

function listing(tar: Buffer): string[] {
  const file = join(dirs[0] ?? tmpdir(), "ctx.tar");
  writeFileSync(file, tar);
  const names = execFileSync("tar", ["-tf", file]).toString().trim().split("\n");
  rmSync(file);
  return names;
}

describe("the build context", () => {
  it("leaves out what .dockerignore names, but always sends the Dockerfile", () => {
    const dir = context({
      Dockerfile: "FROM scratch\n",
      ".dockerignore": "*.log\nDockerfile\nsecrets\n",
      "app.js": "1",
      "debug.log": "x",
      "secrets/key": "k",
      "src/lib.js": "2",
    });
    const packed = packContext(spec(dir), [join(dir, "state")]);
    expect(listing(packed.tar).sort()).toEqual(
      [".dockerignore", "Dockerfile", "app.js", "src/", "src/lib.js"].sort(),
    );
    expect(packed.files).toBe(4);
  });

  it("leaves out Baton's own paths (state directory, definition)", () => {
    const dir = context({
      Dockerfile: "FROM scratch\n",
      "baton.yaml": "apps: {}",
      ".baton/state.db": "x",
    });
    const packed = packContext(spec(dir), [join(dir, ".baton"), join(dir, "baton.yaml")]);
    expect(listing(packed.tar)).toEqual(["Dockerfile"]);
  });

  it("has a digest that follows content, arguments and labels, not times", () => {
    const dir = context({ Dockerfile: "FROM scratch\n", "a.txt": "one" });
    const first = packContext(spec(dir)).digest;
    expect(packContext(spec(dir)).digest).toBe(first);
    execFileSync("touch", ["-d", "2001-01-01", join(dir, "a.txt")]);
    expect(packContext(spec(dir)).digest).toBe(first);
    expect(packContext(spec(dir, { args: { A: "1" } })).digest).not.toBe(first);
    expect(packContext(spec(dir, { labels: { team: "x" } })).digest).not.toBe(first);
    writeFileSync(join(dir, "a.txt"), "two");
    expect(packContext(spec(dir)).digest).not.toBe(first);
  });
});

describe("a release version", () => {
  const digest = "0123456789abcdef".repeat(4);

  it("is <commit 8>-<content 8> in git, the content digest alone outside", () => {
    expect(releaseVersion("fedcba9876543210fedcba9876543210fedcba98", digest)).toBe(
      "fedcba98-01234567",
    );
    expect(releaseVersion(null, digest)).toBe("0123456789ab");
  });

  it("takes the commit checked out, or null outside a git work tree", async () => {
    const dir = context({ "a.txt": "x" });
    expect(await gitCommit(dir)).toBeNull();
    const git = (...args: string[]) =>
      execFileSync("git", [
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.invalid",
        "-C",
        dir,
        ...args,
      ]);
    git("init", "-q");
    git("add", "-A");
    git("commit", "-q", "-m", "x");
    const head = execFileSync("git", ["-C", dir, "rev-parse", "HEAD"]).toString().trim();
    expect(await gitCommit(dir)).toBe(head);
    expect(await gitCommit(join(dir, "missing"))).toBeNull();
  });
});
