import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { quoteArg, quoteArgv } from "../../../src/hosts/quote.js";

/** What a real POSIX shell (dash, as Debian's /bin/sh) makes of the quoted line. */
function shellArgv(line: string): string[] {
  const out = execFileSync("/bin/sh", ["-c", `for a in ${line}; do printf '%s\\0' "$a"; done`]);
  return out.toString("utf8").split("\0").slice(0, -1);
}

describe("quoteArgv", () => {
  const hostile = [
    "plain",
    "with space",
    "it's",
    "'",
    "''",
    "$HOME",
    "`id`",
    "$(id)",
    "a;b&&c||d|e",
    "line1\nline2",
    "tab\there",
    "*",
    "~",
    "back\\slash",
    '"double"',
    "",
    "-n",
    "ünïcödé ✓",
    "!bang",
    "#comment",
  ];

  it("splits back into exactly the argv it was, in a real shell", () => {
    expect(shellArgv(quoteArgv(hostile))).toEqual(hostile);
  });

  it("leaves plain words readable and quotes the rest", () => {
    expect(quoteArgv(["mkdir", "-p", "/srv/app"])).toBe("mkdir -p /srv/app");
    expect(quoteArg("a b")).toBe("'a b'");
    expect(quoteArg("it's")).toBe("'it'\\''s'");
    expect(quoteArg("")).toBe("''");
  });

  it("refuses what no shell can carry", () => {
    expect(() => quoteArg("a\0b")).toThrow(/NUL/);
    expect(() => quoteArgv([])).toThrow(/empty/);
  });
});
