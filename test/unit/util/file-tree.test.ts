import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  ALWAYS_IGNORED,
  copyTree,
  ignoreMatcher,
  TreeChangedError,
  treeDigest,
  treeEntries,
} from "../../../src/util/file-tree.js";

// Faults a test injects into the copy, where a real one cannot be made (tests run as root).
const faults = vi.hoisted(() => ({
  copyFile: undefined as string | undefined,
  beforeRename: undefined as (() => void) | undefined,
}));
vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:fs/promises")>();
  return {
    ...actual,
    copyFile: (from: string, to: string, mode?: number) => {
      if (from === faults.copyFile) {
        return Promise.reject(Object.assign(new Error("i/o error"), { code: "EIO" }));
      }
      return actual.copyFile(from, to, mode);
    },
    rename: (from: string, to: string) => {
      faults.beforeRename?.();
      return actual.rename(from, to);
    },
  };
});

let dir: string;
let root: string;
beforeEach(() => {
  faults.copyFile = undefined;
  faults.beforeRename = undefined;
  dir = mkdtempSync(join(tmpdir(), "baton-tree-"));
  root = join(dir, "app");
  mkdirSync(root);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(relativePath: string, content: string, mode?: number): void {
  const path = join(root, relativePath);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  if (mode !== undefined) chmodSync(path, mode);
}

/** A small app directory with a bit of everything. */
function sampleApp(): void {
  write("baton.env", "PORT=8080\n");
  write("config/app.json", '{"debug":false}\n');
  write("bin/start.sh", "#!/bin/sh\nexec node server.js\n", 0o755);
  write("secret.txt", "s3cret\n", 0o600);
  mkdirSync(join(root, "empty"));
  symlinkSync("config/app.json", join(root, "current.json"));
  symlinkSync("config", join(root, "config-link"));
}

describe("treeDigest", () => {
  it("is a sha256 hex that stays the same across runs and ignores mtimes", () => {
    sampleApp();
    const digest = treeDigest(root);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(treeDigest(root)).toBe(digest);
    utimesSync(join(root, "baton.env"), new Date(2001, 1, 1), new Date(2001, 1, 1));
    utimesSync(join(root, "config"), new Date(2001, 1, 1), new Date(2001, 1, 1));
    chmodSync(join(root, "secret.txt"), 0o644);
    expect(treeDigest(root)).toBe(digest);
  });

  it("changes when a file's content changes", () => {
    sampleApp();
    const before = treeDigest(root);
    write("config/app.json", '{"debug":true}\n');
    expect(treeDigest(root)).not.toBe(before);
  });

  it("changes when a file is added, removed or renamed", () => {
    sampleApp();
    const before = treeDigest(root);
    write("config/extra.json", "{}\n");
    const added = treeDigest(root);
    expect(added).not.toBe(before);
    renameSync(join(root, "config/extra.json"), join(root, "config/other.json"));
    const renamed = treeDigest(root);
    expect(renamed).not.toBe(added);
    expect(renamed).not.toBe(before);
    unlinkSync(join(root, "config/other.json"));
    expect(treeDigest(root)).toBe(before);
  });

  it("changes when an empty directory is added", () => {
    sampleApp();
    const before = treeDigest(root);
    mkdirSync(join(root, "empty/inner"));
    expect(treeDigest(root)).not.toBe(before);
  });

  it("changes when an executable bit flips, and only then", () => {
    sampleApp();
    const before = treeDigest(root);
    chmodSync(join(root, "bin/start.sh"), 0o644);
    expect(treeDigest(root)).not.toBe(before);
    chmodSync(join(root, "bin/start.sh"), 0o700);
    expect(treeDigest(root)).toBe(before);
  });

  it("changes when a symlink's target changes", () => {
    sampleApp();
    const before = treeDigest(root);
    unlinkSync(join(root, "current.json"));
    symlinkSync("config/other.json", join(root, "current.json"));
    expect(treeDigest(root)).not.toBe(before);
  });

  it("records a symlink to a directory without following it", () => {
    mkdirSync(join(dir, "outside"));
    writeFileSync(join(dir, "outside/file"), "1");
    symlinkSync("../outside", join(root, "linked"));
    const before = treeDigest(root);
    writeFileSync(join(dir, "outside/file"), "2");
    writeFileSync(join(dir, "outside/new"), "3");
    expect(treeDigest(root)).toBe(before);
  });

  it("tells a file from a symlink whose target is the file's content", () => {
    write("a", "x");
    const asFile = treeDigest(root);
    unlinkSync(join(root, "a"));
    symlinkSync("x", join(root, "a"));
    expect(treeDigest(root)).not.toBe(asFile);
  });

  it("leaves out FIFOs", () => {
    sampleApp();
    const before = treeDigest(root);
    execFileSync("mkfifo", [join(root, "pipe")]);
    expect(treeDigest(root)).toBe(before);
  });

  it("always skips .git and .baton, at any depth", () => {
    sampleApp();
    const before = treeDigest(root);
    write(".git/HEAD", "ref: refs/heads/main\n");
    write(".baton/state.db", "x");
    write("config/.git/config", "x");
    expect(treeDigest(root)).toBe(before);
    expect(ALWAYS_IGNORED).toEqual([".git/", ".baton/"]);
    // Only as directories: a file so named is content like any other.
    write("config/.baton", "x");
    expect(treeDigest(root)).not.toBe(before);
  });

  it("leaves out what the ignore patterns name, so changing it changes nothing", () => {
    sampleApp();
    const ignore = ["*.log", "data/", "tmp/**", "/build", "config/*.local.json", "**/cache"];
    // The directories holding ignored entries are not ignored; they exist before and after.
    for (const path of ["deep/down", "sub", "a/b", "tmp"]) {
      mkdirSync(join(root, path), { recursive: true });
    }
    const before = treeDigest(root, { ignore });
    write("app.log", "1");
    write("deep/down/app.log", "1");
    write("data/db.sqlite", "1");
    write("sub/data/db.sqlite", "1");
    write("build/out.js", "1");
    write("config/dev.local.json", "1");
    write("a/b/cache/x", "1");
    write("tmp/session/1", "1");
    expect(treeDigest(root, { ignore })).toBe(before);
    // tmp/** leaves the directory itself in, as git does.
    rmSync(join(root, "tmp"), { recursive: true });
    expect(treeDigest(root, { ignore })).not.toBe(before);
  });

  it("keeps what the ignore patterns do not name", () => {
    sampleApp();
    const ignore = ["data/", "/build", "config/*.local.json"];
    const before = treeDigest(root, { ignore });
    write("data", "a file, not a directory");
    const withDataFile = treeDigest(root, { ignore });
    expect(withDataFile).not.toBe(before);
    write("sub/build/out.js", "anchored patterns match at the root only");
    const withSubBuild = treeDigest(root, { ignore });
    expect(withSubBuild).not.toBe(withDataFile);
    write("config/nested/dev.local.json", "* does not cross /");
    expect(treeDigest(root, { ignore })).not.toBe(withSubBuild);
  });

  it("leaves out excluded absolute paths", () => {
    sampleApp();
    const before = treeDigest(root);
    write("state/controller.db", "x");
    expect(treeDigest(root)).not.toBe(before);
    expect(treeDigest(root, { exclude: [join(root, "state")] })).toBe(before);
    expect(() => treeDigest(root, { exclude: ["state"] })).toThrow(
      'exclude path "state" must be absolute',
    );
  });

  it("throws naming a path that is not a readable directory", () => {
    expect(() => treeDigest(join(dir, "missing"))).toThrow(
      `cannot read directory ${join(dir, "missing")}: ENOENT`,
    );
  });
});

describe("ignoreMatcher", () => {
  it("matches a basename glob at any depth, never across /", () => {
    const ignored = ignoreMatcher(["*.log", "v?.txt"]);
    expect(ignored("app.log", false)).toBe(true);
    expect(ignored("a/b/app.log", false)).toBe(true);
    expect(ignored("logs.d", true)).toBe(false);
    expect(ignored("a/v1.txt", false)).toBe(true);
    expect(ignored("v12.txt", false)).toBe(false);
  });

  it("matches directories only with a trailing slash, and everything below them", () => {
    const ignored = ignoreMatcher(["data/"]);
    expect(ignored("data", true)).toBe(true);
    expect(ignored("data", false)).toBe(false);
    expect(ignored("x/data", true)).toBe(true);
    expect(ignored("data/db/file", false)).toBe(true);
    expect(ignored("database", true)).toBe(false);
  });

  it("anchors at the root a pattern with a leading or inner slash", () => {
    const ignored = ignoreMatcher(["/build", "config/*.json"]);
    expect(ignored("build", true)).toBe(true);
    expect(ignored("build/out.js", false)).toBe(true);
    expect(ignored("src/build", true)).toBe(false);
    expect(ignored("config/app.json", false)).toBe(true);
    expect(ignored("config/sub/app.json", false)).toBe(false);
    expect(ignored("x/config/app.json", false)).toBe(false);
  });

  it("lets ** span zero or more directories", () => {
    const ignored = ignoreMatcher(["tmp/**", "**/cache", "a/**/z.txt"]);
    expect(ignored("tmp", true)).toBe(false);
    expect(ignored("tmp/x", false)).toBe(true);
    expect(ignored("tmp/x/y", false)).toBe(true);
    expect(ignored("cache", true)).toBe(true);
    expect(ignored("p/q/cache", false)).toBe(true);
    expect(ignored("a/z.txt", false)).toBe(true);
    expect(ignored("a/b/c/z.txt", false)).toBe(true);
    expect(ignored("b/a/z.txt", false)).toBe(false);
  });

  it("takes character classes, escapes, comments and blank lines as git does", () => {
    const ignored = ignoreMatcher(["# a comment", "", "file[0-9].txt", "[!a]x", "\\#literal"]);
    expect(ignored("file7.txt", false)).toBe(true);
    expect(ignored("fileA.txt", false)).toBe(false);
    expect(ignored("bx", false)).toBe(true);
    expect(ignored("ax", false)).toBe(false);
    expect(ignored("#literal", false)).toBe(true);
    expect(ignored("# a comment", false)).toBe(false);
  });

  it("treats regex characters in a pattern literally", () => {
    const ignored = ignoreMatcher(["a+b(1).txt"]);
    expect(ignored("a+b(1).txt", false)).toBe(true);
    expect(ignored("aab1.txt", false)).toBe(false);
  });

  it("refuses negation", () => {
    expect(() => ignoreMatcher(["*.log", "!keep.log"])).toThrow(
      'ignore pattern "!keep.log": negation with "!" is not supported',
    );
  });
});

describe("treeEntries", () => {
  it("lists what the digest counts, entry by entry, with the same filter", async () => {
    sampleApp();
    write("debug.log", "noise\n");
    const entries = await treeEntries(root, { ignore: ["*.log"] });
    expect([...entries.keys()].sort()).toEqual([
      "baton.env",
      "bin",
      "bin/start.sh",
      "config",
      "config-link",
      "config/app.json",
      "current.json",
      "empty",
      "secret.txt",
    ]);
    expect(entries.get("config")?.kind).toBe("dir");
    expect(entries.get("current.json")?.kind).toBe("symlink");
    expect(entries.get("baton.env")?.kind).toBe("file");
  });

  it("gives an entry another signature exactly when the digest would change for it", async () => {
    sampleApp();
    const before = await treeEntries(root);
    utimesSync(join(root, "baton.env"), new Date(2001, 1, 1), new Date(2001, 1, 1));
    write("config/app.json", '{"debug":true}\n');
    chmodSync(join(root, "bin/start.sh"), 0o644);
    const after = await treeEntries(root);
    const differ = [...after.keys()].filter(
      (path) => after.get(path)?.signature !== before.get(path)?.signature,
    );
    expect(differ.sort()).toEqual(["bin/start.sh", "config/app.json"]);
  });
});

describe("copyTree", () => {
  it("copies the tree and returns the digest treeDigest gives the source and the copy", async () => {
    sampleApp();
    const dest = join(dir, "snapshots", "one");
    const digest = await copyTree(root, dest);
    expect(digest).toBe(treeDigest(root));
    expect(treeDigest(dest)).toBe(digest);
    expect(readFileSync(join(dest, "config/app.json"), "utf8")).toBe('{"debug":false}\n');
    expect(existsSync(join(dest, "empty"))).toBe(true);
  });

  it("keeps symlinks as symlinks, and the modes of files and directories", async () => {
    sampleApp();
    chmodSync(join(root, "config"), 0o750);
    const dest = join(dir, "copy");
    await copyTree(root, dest);
    expect(readlinkSync(join(dest, "current.json"))).toBe("config/app.json");
    expect(lstatSync(join(dest, "config-link")).isSymbolicLink()).toBe(true);
    expect(statSync(join(dest, "bin/start.sh")).mode & 0o7777).toBe(0o755);
    expect(statSync(join(dest, "secret.txt")).mode & 0o7777).toBe(0o600);
    expect(statSync(join(dest, "config")).mode & 0o7777).toBe(0o750);
  });

  it("copies a read-only directory", async () => {
    write("ro/file", "x");
    chmodSync(join(root, "ro"), 0o555);
    const dest = join(dir, "copy");
    try {
      expect(await copyTree(root, dest)).toBe(treeDigest(root));
      expect(statSync(join(dest, "ro")).mode & 0o7777).toBe(0o555);
    } finally {
      chmodSync(join(root, "ro"), 0o755);
      if (existsSync(dest)) chmodSync(join(dest, "ro"), 0o755);
    }
  });

  it("copies what the filters let through and nothing else", async () => {
    sampleApp();
    write(".git/HEAD", "x");
    write("app.log", "x");
    write("state/db", "x");
    const options = { ignore: ["*.log"], exclude: [join(root, "state")] };
    const dest = join(dir, "copy");
    const digest = await copyTree(root, dest, options);
    expect(digest).toBe(treeDigest(root, options));
    expect(readdirSync(dest).sort()).toEqual([
      "baton.env",
      "bin",
      "config",
      "config-link",
      "current.json",
      "empty",
      "secret.txt",
    ]);
  });

  it("copies large files whole", async () => {
    write("big.bin", "0123456789abcdef".repeat(200_000));
    const dest = join(dir, "copy");
    expect(await copyTree(root, dest)).toBe(treeDigest(root));
    expect(statSync(join(dest, "big.bin")).size).toBe(3_200_000);
  });

  it("accepts a destination inside the root only if it is excluded or ignored", async () => {
    sampleApp();
    const before = treeDigest(root);
    await expect(copyTree(root, join(root, "snapshots", "x"))).rejects.toThrow(
      `cannot copy ${root} to ${join(root, "snapshots", "x")}, which lies inside it`,
    );
    expect(await copyTree(root, join(root, ".baton", "snapshots", "x"))).toBe(before);
    const exclude = [join(root, "snapshots")];
    expect(await copyTree(root, join(root, "snapshots", "x"), { exclude })).toBe(before);
  });

  it("keeps an existing destination as it is", async () => {
    sampleApp();
    const dest = join(dir, "copy");
    const digest = await copyTree(root, dest);
    write("baton.env", "PORT=9090\n");
    writeFileSync(join(dest, "marker"), "untouched");
    expect(await copyTree(root, dest, { expectedDigest: digest })).toBe(digest);
    expect(readFileSync(join(dest, "baton.env"), "utf8")).toBe("PORT=8080\n");
    expect(readFileSync(join(dest, "marker"), "utf8")).toBe("untouched");
    // Without an expected digest, it is read from the destination.
    expect(await copyTree(root, dest)).toBe(treeDigest(dest));
    expect(readdirSync(dir).sort()).toEqual(["app", "copy"]);
  });

  it("throws TreeChangedError and leaves nothing behind when the tree changed since planning", async () => {
    sampleApp();
    const planned = treeDigest(root);
    write("config/app.json", '{"debug":true}\n');
    const dest = join(dir, "copy");
    const error = await copyTree(root, dest, { expectedDigest: planned }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TreeChangedError);
    expect(error).toMatchObject({ root, expected: planned, found: treeDigest(root) });
    expect((error as Error).message).toBe(
      `${root} changed while it was being copied: digest ${planned} was planned, ${treeDigest(root)} found`,
    );
    expect(readdirSync(dir)).toEqual(["app"]);
  });

  it("removes its temp dir when a file cannot be copied", async () => {
    sampleApp();
    faults.copyFile = join(root, "config/app.json");
    const error = await copyTree(root, join(dir, "copy")).catch((e: unknown) => e);
    const from = join(root, "config/app.json");
    expect((error as Error).message).toMatch(/^cannot copy file .* to .*\/copy\.tmp-.*: EIO$/);
    expect((error as Error).message).toContain(from);
    expect(readdirSync(dir)).toEqual(["app"]);
  });

  it("keeps the snapshot of a concurrent copier that renamed first, and removes its own", async () => {
    sampleApp();
    chmodSync(join(root, "config"), 0o555);
    const dest = join(dir, "copy");
    try {
      faults.beforeRename = () => {
        mkdirSync(dest);
        writeFileSync(join(dest, "winner"), "x");
      };
      expect(await copyTree(root, dest)).toBe(treeDigest(root));
      expect(readdirSync(dest)).toEqual(["winner"]);
      expect(readdirSync(dir).sort()).toEqual(["app", "copy"]);
    } finally {
      chmodSync(join(root, "config"), 0o755);
    }
  });
});
