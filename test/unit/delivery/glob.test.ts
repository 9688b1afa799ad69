import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findFiles } from "../../../src/delivery/steps/find-files.js";
import {
  expandBraces,
  GlobError,
  globMatcher,
  literalBase,
} from "../../../src/delivery/steps/glob.js";

describe("glob patterns", () => {
  it.each([
    ["reports/*.xml", "reports/unit.xml", true],
    ["reports/*.xml", "reports/sub/unit.xml", false],
    ["reports/*.xml", "reports/.hidden.xml", true],
    ["**/*.xml", "a.xml", true],
    ["**/*.xml", "a/b/c.xml", true],
    ["**/TEST-*.xml", "target/surefire-reports/TEST-com.example.AppTest.xml", true],
    ["dist/**", "dist/a/b.js", true],
    ["dist/**", "distx/a.js", false],
    ["a/**/b", "a/b", true],
    ["a/**/b", "a/x/y/b", true],
    ["a/**/b", "a/xb", false],
    ["file?.log", "file1.log", true],
    ["file?.log", "file10.log", false],
    ["file?.log", "file/.log", false],
    ["*.{js,map}", "app.map", true],
    ["*.{js,map}", "app.ts", false],
    ["{dist,build/{x,y}}/*.txt", "build/y/r.txt", true],
    ["{dist,build/{x,y}}/*.txt", "build/z/r.txt", false],
    ["{single}.txt", "{single}.txt", true],
    ["log[0-9].txt", "log7.txt", true],
    ["log[!0-9].txt", "logx.txt", true],
    ["log[!0-9].txt", "log7.txt", false],
    ["a\\*b", "a*b", true],
    ["a\\*b", "axb", false],
    ["./out/a+b(1).txt", "out/a+b(1).txt", true],
    ["out/", "out", true],
  ])("%s matches %s: %s", (pattern, path, expected) => {
    expect(globMatcher([pattern])(path)).toBe(expected);
  });

  it("expands nested braces", () => {
    expect(expandBraces("a{b,c{d,e}}f")).toEqual(["abf", "acdf", "acef"]);
  });

  it("knows the literal directory a walk can start from", () => {
    expect(literalBase("target/surefire-reports/*.xml")).toBe("target/surefire-reports");
    expect(literalBase("**/*.xml")).toBe("");
    expect(literalBase("a/{b,c}/d")).toBe("a");
    expect(literalBase("dist/app.js")).toBe("dist/app.js");
  });

  it.each([
    ["/etc/passwd", /relative to the checkout/],
    ["../secrets/*", /leaves the checkout/],
    ["", /non-empty/],
    ["a{b,c", /without its "}"/],
  ])("rejects %j saying why", (pattern, message) => {
    expect(() => globMatcher([pattern])).toThrow(GlobError);
    expect(() => globMatcher([pattern])).toThrow(message);
  });
});

describe("finding the files of a checkout", () => {
  const root = mkdtempSync(join(tmpdir(), "baton-glob-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  for (const file of [
    "reports/a.xml",
    "reports/deep/b.xml",
    "pkg/x/reports/c.xml",
    "dist/app.js",
    "dist/maps/app.js.map",
    ".git/config.xml",
    "readme.md",
  ]) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), file);
  }
  symlinkSync("/etc/hostname", join(root, "reports/link.xml"));
  symlinkSync("/etc", join(root, "etc-link"));

  it("walks from the literal base, matching directories whole, never into .git", () => {
    expect(findFiles(root, ["**/*.xml"]).files).toEqual([
      "pkg/x/reports/c.xml",
      "reports/a.xml",
      "reports/deep/b.xml",
    ]);
    expect(findFiles(root, ["dist", "readme.md"]).files).toEqual([
      "dist/app.js",
      "dist/maps/app.js.map",
      "readme.md",
    ]);
    expect(findFiles(root, ["nothing/*.xml", "nothing"]).files).toEqual([]);
    expect(findFiles(root, ["reports/a.xml"]).files).toEqual(["reports/a.xml"]);
  });

  it("reports symlinks instead of following them out of the checkout", () => {
    const found = findFiles(root, ["reports/*.xml", "etc-link/*", "etc-link/hostname"]);
    expect(found.files).toEqual(["reports/a.xml"]);
    expect(found.symlinks).toEqual(["reports/link.xml"]);
  });
});
