import { describe, expect, it } from "vitest";
import { ignoreRules } from "../../../src/images/index.js";

describe(".dockerignore rules", () => {
  it("anchors patterns at the context root, as the Docker CLI does", () => {
    const rules = ignoreRules(["*.log", "# a comment", "", "/tmp"]);
    expect(rules.excludes("debug.log")).toBe(true);
    // Unlike .gitignore, `*.log` is not "any depth".
    expect(rules.excludes("logs/debug.log")).toBe(false);
    expect(rules.excludes("tmp")).toBe(true);
    expect(rules.excludes("tmp/cache/x")).toBe(true);
    expect(rules.excludes("src/tmp")).toBe(false);
  });

  it("spans folders with ** and keeps * and ? within one", () => {
    const rules = ignoreRules(["**/*.map", "build/?.o", "docs/*"]);
    expect(rules.excludes("app.js.map")).toBe(true);
    expect(rules.excludes("dist/deep/app.js.map")).toBe(true);
    expect(rules.excludes("build/a.o")).toBe(true);
    expect(rules.excludes("build/ab.o")).toBe(false);
    expect(rules.excludes("docs/readme.md")).toBe(true);
    expect(rules.excludes("docs/api/x.md")).toBe(true); // its folder docs/api is matched
  });

  it("re-includes with !, the last matching pattern winning", () => {
    const rules = ignoreRules(["node_modules", "*.md", "!README.md", "!node_modules/keep"]);
    expect(rules.hasExceptions).toBe(true);
    expect(rules.excludes("CHANGES.md")).toBe(true);
    expect(rules.excludes("README.md")).toBe(false);
    expect(rules.excludes("node_modules/left/index.js")).toBe(true);
    expect(rules.excludes("node_modules/keep")).toBe(false);
  });

  it("cleans patterns like the CLI: ./ and trailing slashes do not matter", () => {
    const rules = ignoreRules(["./secrets/", "a//b"]);
    expect(rules.excludes("secrets")).toBe(true);
    expect(rules.excludes("secrets/key.pem")).toBe(true);
    expect(rules.excludes("a/b")).toBe(true);
    expect(ignoreRules([]).hasExceptions).toBe(false);
  });
});
