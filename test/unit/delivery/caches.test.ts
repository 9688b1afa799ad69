import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cacheDirOf, restoreCaches, saveCaches } from "../../../src/delivery/steps/caches.js";
import { copyTree } from "../../../src/delivery/steps/tree-copy.js";

const root = mkdtempSync(join(tmpdir(), "baton-caches-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

describe("caches between runs", () => {
  it("names cache dirs safely, whatever the key", () => {
    expect(cacheDirOf("/c", "api", "npm/v1")).toBe("/c/api/npm%2Fv1");
    expect(cacheDirOf("/c", "api", "..")).toBe("/c/api/%2E%2E");
  });

  it("saves by replacing the whole cache, and restores beside the checkout's own files", async () => {
    const where = (checkout: string) => ({ checkout, cacheRoot: join(root, "c"), pipeline: "p" });
    const caches = [{ path: "deps", key: "deps" }];
    const first = join(root, "run1");
    write(join(first, "deps/old.txt"), "old");
    write(join(first, "deps/sub/kept.txt"), "v1");
    symlinkSync("sub/kept.txt", join(first, "deps/link"));
    expect((await saveCaches(caches, where(first))).problems).toEqual([]);

    const second = join(root, "run2");
    write(join(second, "deps/sub/kept.txt"), "v2");
    expect((await saveCaches(caches, where(second))).problems).toEqual([]);
    const saved = cacheDirOf(join(root, "c"), "p", "deps");
    expect(readdirSync(saved).sort()).toEqual(["sub"]);
    expect(readdirSync(dirname(saved))).toEqual(["deps"]); // no temp or old dir left behind

    const third = join(root, "run3");
    write(join(third, "deps/sub/kept.txt"), "from the checkout");
    write(join(third, "deps/extra.txt"), "mine");
    const restored = await restoreCaches(caches, where(third));
    expect(restored.problems).toEqual([]);
    expect(readFileSync(join(third, "deps/sub/kept.txt"), "utf8")).toBe("from the checkout");

    const fourth = join(root, "run4");
    mkdirSync(fourth);
    await restoreCaches(caches, where(fourth));
    expect(readFileSync(join(fourth, "deps/sub/kept.txt"), "utf8")).toBe("v2");
  });

  it("says a cache path outside the checkout is refused, and how to name one", async () => {
    const checkout = join(root, "run5");
    mkdirSync(checkout);
    const outcome = await restoreCaches([{ path: "../elsewhere", key: "x" }], {
      checkout,
      cacheRoot: join(root, "c"),
      pipeline: "p",
    });
    expect(outcome.problems[0]).toMatch(/"\.\.\/elsewhere" must be a path inside the checkout/);
  });

  it("copies trees with modes and symlinks, merging without overwriting", async () => {
    const from = join(root, "tree");
    write(join(from, "a/b.txt"), "b");
    write(join(from, "run.sh"), "#!/bin/sh\n");
    symlinkSync("a/b.txt", join(from, "ln"));
    chmodSync(join(from, "run.sh"), 0o755);
    await copyTree(from, join(root, "copy"));
    expect(statSync(join(root, "copy/run.sh")).mode & 0o777).toBe(0o755);
    expect(readlinkSync(join(root, "copy/ln"))).toBe("a/b.txt");

    write(join(root, "merge/a/b.txt"), "mine");
    await copyTree(from, join(root, "merge"));
    expect(readFileSync(join(root, "merge/a/b.txt"), "utf8")).toBe("mine");
    expect(readlinkSync(join(root, "merge/ln"))).toBe("a/b.txt");
    expect(statSync(join(root, "merge/run.sh")).mode & 0o777).toBe(0o755);
  });
});
