// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the text under test is literal `${NAME}` syntax
import { describe, expect, it } from "vitest";
import { parseEnvFile } from "../../../src/definition/env-file.js";

const env = (text: string) => {
  const parsed = parseEnvFile(text);
  expect(parsed.problems).toEqual([]);
  return parsed.env;
};

describe("parseEnvFile reads an env file as Docker Compose's env_file", () => {
  it("skips comments and blank lines, and takes `export KEY=VALUE`", () => {
    expect(env("# settings\n\n  A=1\nexport B=2\nC=\n")).toEqual({ A: "1", B: "2", C: "" });
  });

  it("ends an unquoted value at an inline comment only after a blank", () => {
    expect(env("A=VAL # comment\nB=VAL# not a comment\nC=a  b  \n")).toEqual({
      A: "VAL",
      B: "VAL# not a comment",
      C: "a  b",
    });
  });

  it("keeps single-quoted values as written, but for an escaped quote", () => {
    expect(env("A='$OTHER'\nB='${OTHER}'\nC='some\\tvalue'\nD='Let\\'s go!'\n")).toEqual({
      A: "$OTHER",
      B: "${OTHER}",
      C: "some\\tvalue",
      D: "Let's go!",
    });
  });

  it("reads the shell's escapes in double quotes, and a comment only after the closing quote", () => {
    expect(
      env('A="some\\tvalue"\nB="{\\"hello\\": \\"json\\"}"\nC="VAL # not a comment" # comment\n'),
    ).toEqual({ A: "some\tvalue", B: '{"hello": "json"}', C: "VAL # not a comment" });
    expect(env("A=some\\tvalue\n")).toEqual({ A: "some\\tvalue" });
  });

  it("lets quoted values span lines", () => {
    expect(env('KEY="-----BEGIN\nline\n-----END"\nNEXT=1\n')).toEqual({
      KEY: "-----BEGIN\nline\n-----END",
      NEXT: "1",
    });
  });

  it("interpolates the lines above in unquoted and double-quoted values", () => {
    expect(
      env(
        'HOST=db\nURL=pg://${HOST}/x\nBARE=$HOST:1\nQ="${HOST}"\nD=${NOPE:-fallback}\nE=${HOST-x}\nCOST=$$5\n',
      ),
    ).toEqual({
      HOST: "db",
      URL: "pg://db/x",
      BARE: "db:1",
      Q: "db",
      D: "fallback",
      E: "db",
      COST: "$5",
    });
  });

  it("keeps the last value of a key given twice, and takes CRLF line ends", () => {
    expect(env("A=1\r\nA=2\r\n")).toEqual({ A: "2" });
  });
});

describe("parseEnvFile's problems", () => {
  const problems = (text: string) =>
    parseEnvFile(text).problems.map(({ line, col, message }) => ({ line, col, message }));

  it("point at the line and column, never quoting a value", () => {
    expect(problems('OK=1\nPASSWORD="hunter2\n')).toEqual([
      {
        line: 2,
        col: 10,
        message: "the value of PASSWORD opens a double quote that is never closed",
      },
    ]);
    expect(problems("OK=1\n  = no name\n")).toEqual([
      { line: 2, col: 3, message: "expected a line `KEY=VALUE`, found no variable name" },
    ]);
    expect(problems("A=1\nLONELY\n")).toEqual([
      { line: 2, col: 1, message: "expected `LONELY=VALUE`, found no `=`" },
    ]);
    expect(problems("A='x'y\n")).toEqual([
      { line: 1, col: 6, message: "the value of A goes on after its closing quote" },
    ]);
  });

  it("name a reference to nothing above, at its column", () => {
    expect(problems('A=x\nB=pre-${MISSING}\nC="$ALSO"\n')).toEqual([
      { line: 2, col: 7, message: "the value of B refers to MISSING, which no line above defines" },
      { line: 3, col: 4, message: "the value of C refers to ALSO, which no line above defines" },
    ]);
    expect(problems("A=${bad name}\n")[0]?.message).toMatch(/not a reference such as/);
  });

  it("report every problem of the file at once", () => {
    expect(problems("1=x\nB='open\n")).toHaveLength(2);
  });
});
