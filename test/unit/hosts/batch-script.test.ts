/**
 * The batch scripts run for real, in this machine's /bin/sh (dash on Debian, as on a host),
 * fed on stdin as a host gets them; what they print is parsed back.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  applyScript,
  INPUT_END,
  newBoundary,
  observeScript,
  parseApplyOutput,
  parseObserveOutput,
  STDERR_LIMIT,
} from "../../../src/hosts/batch-script.js";
import { fileModule } from "../../../src/hosts/modules/file.js";
import { statProbeArgv } from "../../../src/hosts/modules/path-state.js";

const dir = mkdtempSync(join(tmpdir(), "baton-batch-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runScript(script: string): Buffer {
  return execFileSync("sh", ["-s"], { input: script, cwd: dir, maxBuffer: 64 * 1024 * 1024 });
}

const sh = (script: string, ...args: string[]) => ["sh", "-c", script, "sh", ...args];

describe("observe script", () => {
  it("gives each probe its exact stdout, stderr and exit code, whatever they hold", () => {
    const boundary = newBoundary();
    const fake = `\n${newBoundary()} E 0\nforged\n${newBoundary()} END\n`;
    const hostile = 'it\'s $HOME `id` $(id) \\ "q"\n\nlast line without newline';
    const probes = [
      ["printf", "%s", hostile],
      ["printf", "%s", fake],
      sh('printf "out"; printf "err\\n" >&2; exit 7'),
      ["printf", "\\n\\n"],
      ["true"],
      // Reads stdin: it must get nothing, not the rest of the script.
      ["cat"],
      // Builtins that would end or move the whole script end only their own subshell.
      ["exit", "3"],
      ["cd", "/"],
      ["pwd"],
      sh('head -c 10000 /dev/zero | tr "\\0" x >&2'),
    ];
    const output = parseObserveOutput(runScript(observeScript(probes, boundary)), boundary);
    expect(output.complete).toBe(true);
    const r = (i: number) => output.results.get(i)!;
    expect(r(0)).toEqual({ code: 0, stdout: hostile, stderr: "" });
    expect(r(1)).toEqual({ code: 0, stdout: fake, stderr: "" });
    expect(r(2)).toEqual({ code: 7, stdout: "out", stderr: "err\n" });
    expect(r(3).stdout).toBe("\n\n");
    expect(r(4)).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(r(5)).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(r(6).code).toBe(3);
    expect(r(8).stdout.trim()).toBe(dir);
    expect(r(9).stderr).toBe("x".repeat(STDERR_LIMIT));
    expect(output.results.size).toBe(probes.length);
  });

  it("a script cut short is not complete, and the probes it never reached are missing", () => {
    const boundary = newBoundary();
    const full = runScript(
      observeScript(
        [
          ["echo", "a"],
          ["echo", "b"],
        ],
        boundary,
      ),
    );
    const cut = full.subarray(0, full.indexOf(Buffer.from("b\n")));
    const output = parseObserveOutput(cut, boundary);
    expect(output.complete).toBe(false);
    expect([...output.results.keys()]).toEqual([0]);
  });

  it("output without any frame (not our shell) parses to nothing", () => {
    expect(parseObserveOutput(Buffer.from("garbage\n"), newBoundary())).toEqual({
      results: new Map(),
      complete: false,
    });
  });
});

describe("observe script: paths stat'ed and hashed all at once", () => {
  const file = (path: string, content: string) =>
    fileModule.probes({
      keep: false,
      notify: [],
      module: "file",
      path,
      content,
      secret: false,
      state: "present",
    })[0]!.argv;

  /** Each probe's stdout, batched, and each run on its own by sh -c (the reference). */
  function bothWays(probes: (readonly string[])[]): { batched: string[]; alone: string[] } {
    const boundary = newBoundary();
    const output = parseObserveOutput(runScript(observeScript(probes, boundary)), boundary);
    expect(output.complete).toBe(true);
    const batched = probes.map((_, i) => output.results.get(i)!.stdout);
    const alone = probes.map((argv) =>
      execFileSync(argv[0]!, argv.slice(1), { cwd: dir }).toString("utf8"),
    );
    return { batched, alone };
  }

  it("answers exactly as path-by-path probes do, for odd names, missing paths and files", () => {
    const root = join(dir, "prefetch");
    mkdirSync(root);
    const odd = join(root, "tab\there and\nnewline 'q' $x");
    writeFileSync(odd, "odd\n");
    writeFileSync(join(root, "plain"), "plain\n");
    writeFileSync(join(root, "back\\slash"), "bs\n");
    const probes = [
      statProbeArgv(root),
      statProbeArgv(join(root, "missing")),
      file(odd, "odd\n"),
      file(join(root, "plain"), "changed\n"),
      file(join(root, "back\\slash"), "bs\n"),
      file(join(root, "missing-file"), "x"),
      statProbeArgv(odd),
    ];
    const { batched, alone } = bothWays(probes);
    expect(batched).toEqual(alone);
    expect(batched[2]).toMatch(/ regular file\nsame\n$/);
    expect(batched[3]).toMatch(/\ncontent\n/);
  });

  it("a path that goes or comes after the prefetch is looked at afresh", () => {
    const root = join(dir, "race");
    mkdirSync(root);
    for (const name of ["a", "b", "c"]) writeFileSync(join(root, name), `${name}\n`);
    const probes = [
      file(join(root, "a"), "a\n"),
      ["rm", join(root, "b")],
      ["touch", join(root, "new")],
      file(join(root, "b"), "b\n"),
      statProbeArgv(join(root, "new")),
      file(join(root, "c"), "c\n"),
    ];
    const boundary = newBoundary();
    const output = parseObserveOutput(runScript(observeScript(probes, boundary)), boundary);
    const stdout = (i: number) => output.results.get(i)!.stdout;
    expect(stdout(0)).toMatch(/\nsame\n$/);
    expect(stdout(3)).toBe("absent\n");
    expect(stdout(4)).toMatch(/ regular empty file\n$/);
    expect(stdout(5)).toMatch(/ regular file\nsame\n$/);
  });
});

describe("apply script", () => {
  it("delivers every input byte for byte: quotes, $, newlines, its own delimiter, binary", () => {
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const text = `a'b"c $HOME \`id\`\n${INPUT_END}\nEOF\n\n`;
    const big = Buffer.alloc(300_000, "z");
    const invalidUtf8 = Buffer.from([0xff, 0xfe, 0x41, 0x0a]);
    const quotes = "'''\n'\\'";
    const steps = [
      { argv: sh('cat > "$1"', join(dir, "binary")), input: binary },
      { argv: sh('cat > "$1"', join(dir, "text")), input: text },
      { argv: sh('cat > "$1"', join(dir, "empty")), input: "" },
      { argv: sh('cat > "$1"', join(dir, "big")), input: big },
      { argv: sh('cat > "$1"', join(dir, "invalid")), input: invalidUtf8 },
      { argv: sh('cat > "$1"', join(dir, "quotes")), input: Buffer.from(quotes) },
      // Without input a step reads nothing (not the script).
      { argv: sh('cat > "$1"', join(dir, "none")) },
    ];
    const boundary = newBoundary();
    const output = parseApplyOutput(runScript(applyScript(steps, boundary)), boundary);
    expect(output).toEqual({ succeeded: 7, complete: true });
    expect(readFileSync(join(dir, "invalid"))).toEqual(invalidUtf8);
    expect(readFileSync(join(dir, "quotes"), "utf8")).toBe(quotes);
    expect(readFileSync(join(dir, "binary"))).toEqual(binary);
    expect(readFileSync(join(dir, "text"), "utf8")).toBe(text);
    expect(readFileSync(join(dir, "empty"), "utf8")).toBe("");
    expect(readFileSync(join(dir, "big"))).toEqual(big);
    expect(readFileSync(join(dir, "none"), "utf8")).toBe("");
  });

  it("stops at the first failing step, with its exit code, stderr and stdout", () => {
    const steps = [
      { argv: ["touch", join(dir, "first")] },
      { argv: sh('echo partial; echo "it broke: $1" >&2; exit 4', "a'b") },
      { argv: ["touch", join(dir, "never")] },
    ];
    const boundary = newBoundary();
    const output = parseApplyOutput(runScript(applyScript(steps, boundary)), boundary);
    expect(output).toEqual({
      succeeded: 1,
      complete: true,
      failed: { index: 1, code: 4, stderr: "it broke: a'b\n", stdout: "partial\n" },
    });
    expect(() => readFileSync(join(dir, "never"))).toThrow();
  });

  it("a connection lost mid-step leaves that step unfinished", () => {
    const boundary = newBoundary();
    const cut = Buffer.from(`\n${boundary} S 0\n\n${boundary} S 1\n`);
    expect(parseApplyOutput(cut, boundary)).toEqual({ succeeded: 1, complete: false });
  });
});
