import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  blobDigest,
  contentDigest,
  entriesByPath,
  fileDigests,
  folderManifest,
  ManifestError,
  manifestBytes,
  parseManifest,
  selectEntries,
} from "../../../src/util/content-manifest.js";
import { treeDigest, treeEntries } from "../../../src/util/file-tree.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "baton-manifest-"));
  mkdirSync(join(root, "static", "img"), { recursive: true });
  mkdirSync(join(root, "empty"));
  mkdirSync(join(root, ".git"));
  mkdirSync(join(root, "node_modules", "left-pad"), { recursive: true });
  mkdirSync(join(root, "state"));
  writeFileSync(join(root, ".git", "HEAD"), "ref: refs/heads/main\n");
  writeFileSync(join(root, "index.html"), "<h1>hello</h1>\n");
  writeFileSync(join(root, "static", "img", "logo.svg"), "<svg/>\n");
  writeFileSync(join(root, "same.txt"), "<svg/>\n");
  writeFileSync(join(root, "start.sh"), "#!/bin/sh\n");
  chmodSync(join(root, "start.sh"), 0o750);
  writeFileSync(join(root, "node_modules", "left-pad", "index.js"), "module.exports = 1;\n");
  writeFileSync(join(root, "state", "state.db"), "written all the time\n");
  writeFileSync(join(root, "debug.log"), "noise\n");
  symlinkSync("index.html", join(root, "home.html"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("a folder's manifest", () => {
  it("gives the digest the folder on disk has, with the same filters", () => {
    const options = { ignore: ["*.log", "node_modules/"], exclude: [join(root, "state")] };
    const manifest = folderManifest(root, options);
    expect(contentDigest(manifest.entries)).toBe(treeDigest(root, options));
    expect(contentDigest(folderManifest(root).entries)).toBe(treeDigest(root));
    expect(manifest.entries.map((e) => e.path)).toEqual([
      "empty",
      "home.html",
      "index.html",
      "same.txt",
      "start.sh",
      "static",
      "static/img",
      "static/img/logo.svg",
    ]);
  });

  it("narrowed by an app's ignore and exclude gives that app's digest", () => {
    const everything = folderManifest(root);
    for (const options of [
      { ignore: ["*.log"] },
      { ignore: ["node_modules/", "static/**"] },
      { ignore: ["/static"], exclude: [join(root, "state"), join(root, "index.html")] },
      { exclude: [join(root, "node_modules", "left-pad")] },
    ]) {
      expect(contentDigest(selectEntries(everything, root, options))).toBe(
        treeDigest(root, options),
      );
    }
  });

  it("records modes, sizes and each file's blob", () => {
    const manifest = folderManifest(root);
    const byPath = new Map(manifest.entries.map((e) => [e.path, e]));
    expect(byPath.get("start.sh")).toEqual({
      path: "start.sh",
      kind: "file",
      mode: 0o750,
      size: 10,
      digest: blobDigest("#!/bin/sh\n"),
    });
    expect(byPath.get("home.html")).toMatchObject({ kind: "symlink", target: "index.html" });
    expect(byPath.get("empty")).toMatchObject({ kind: "dir", size: 0 });
    // Seven files, two of them with the same bytes: one blob for those.
    expect(manifest.entries.filter((e) => e.kind === "file")).toHaveLength(7);
    expect(fileDigests(manifest)).toHaveLength(6);
  });

  it("says which files changed as the folder on disk does", async () => {
    const before = folderManifest(root);
    writeFileSync(join(root, "index.html"), "<h1>bye</h1>\n");
    chmodSync(join(root, "static", "img", "logo.svg"), 0o755);
    const after = folderManifest(root);
    expect(entriesByPath(after.entries)).toEqual(await treeEntries(root));
    expect(entriesByPath(before.entries).get("index.html")).not.toEqual(
      entriesByPath(after.entries).get("index.html"),
    );
  });

  it("reads back what it wrote, byte for byte the same for the same folder", () => {
    const bytes = manifestBytes(folderManifest(root));
    expect(manifestBytes(parseManifest(bytes)).equals(bytes)).toBe(true);
    expect(manifestBytes(folderManifest(root)).equals(bytes)).toBe(true);
  });

  it("refuses entries that would leave the folder or name no blob", () => {
    const read = (entries: unknown[]) =>
      parseManifest(Buffer.from(JSON.stringify({ mode: 0o755, entries })));
    const file = { kind: "file", mode: 0o644, size: 1, digest: blobDigest("x") };
    expect(() => read([{ ...file, path: "../etc/passwd" }])).toThrow(ManifestError);
    expect(() => read([{ ...file, path: "/etc/passwd" }])).toThrow(ManifestError);
    expect(() => read([{ ...file, path: "a/./b" }])).toThrow(ManifestError);
    expect(() => read([{ ...file, path: "a", digest: "md5:00" }])).toThrow(ManifestError);
    expect(() =>
      read([
        { ...file, path: "a" },
        { ...file, path: "a" },
      ]),
    ).toThrow(/twice/);
    expect(() => parseManifest(Buffer.from("{"))).toThrow(/not JSON/);
    expect(read([{ ...file, path: "a/b" }]).entries).toHaveLength(1);
  });
});
