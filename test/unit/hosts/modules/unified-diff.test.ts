import { describe, expect, it } from "vitest";
import { unifiedDiff } from "../../../../src/hosts/modules/unified-diff.js";

describe("unifiedDiff", () => {
  it("is empty for equal texts", () => {
    expect(unifiedDiff("a\nb\n", "a\nb\n")).toBe("");
  });

  it("shows a change with three lines of context and diff's line numbers", () => {
    const from = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
    const to = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
    expect(unifiedDiff(from, to, { fromLabel: "a/x", toLabel: "b/x" })).toBe(
      "--- a/x\n+++ b/x\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n",
    );
  });

  it("makes separate hunks of changes far apart, one of changes close", () => {
    const lines = Array.from({ length: 20 }, (_, i) => `${i + 1}\n`);
    const far = [...lines];
    far[1] = "two\n";
    far[17] = "eighteen\n";
    const diff = unifiedDiff(lines.join(""), far.join(""));
    expect(diff.match(/^@@ .* @@$/gm)).toEqual(["@@ -1,5 +1,5 @@", "@@ -15,6 +15,6 @@"]);
    const close = [...lines];
    close[1] = "two\n";
    close[6] = "seven\n";
    expect(unifiedDiff(lines.join(""), close.join("")).match(/^@@ .* @@$/gm)).toEqual([
      "@@ -1,10 +1,10 @@",
    ]);
  });

  it("new and emptied files", () => {
    expect(unifiedDiff("", "a\nb\n", { fromLabel: "/dev/null" })).toBe(
      "--- /dev/null\n+++ b\n@@ -0,0 +1,2 @@\n+a\n+b\n",
    );
    expect(unifiedDiff("a\n", "")).toBe("--- a\n+++ b\n@@ -1 +0,0 @@\n-a\n");
  });

  it("says when a line lacks its final newline", () => {
    expect(unifiedDiff("a\nb\n", "a\nb")).toBe(
      "--- a\n+++ b\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n",
    );
  });

  it("insertions and deletions in the middle find the common lines", () => {
    expect(unifiedDiff("a\nb\nc\nd\n", "a\nx\nc\nd\ny\n", { context: 0 })).toBe(
      "--- a\n+++ b\n@@ -2 +2 @@\n-b\n+x\n@@ -4,0 +5 @@\n+y\n",
    );
  });

  it("handles files of thousands of lines", () => {
    const big = Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join("");
    const edited = big.replace("line 2500\n", "changed\n");
    const diff = unifiedDiff(big, edited);
    expect(diff).toContain("-line 2500\n+changed\n");
    expect(diff.split("\n")).toHaveLength(12);
  });
});
