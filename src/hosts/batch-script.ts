/**
 * The scripts that carry a host's whole observe or apply in one round trip, and the parsers
 * of what they print. A script goes to `sh -s` on its stdin: every command in it is an argv
 * quoted by `quoteArgv`, run in a subshell (so that `exit` or `cd` in a user's command ends
 * only that command) with its stdin from /dev/null or its own input (so that it cannot
 * read the rest of the script). Output is framed by lines holding a random boundary that no
 * command can know in advance; the parsers read nothing but what lies between them.
 */
import { randomBytes } from "node:crypto";
import type { ApplyStep, ProbeResult } from "./modules/module.js";
import { isModuleScript, STAT_FORMAT, scriptUse } from "./modules/module-script.js";
import { quoteArg, quoteArgv } from "./quote.js";

/** What is kept of a command's stderr (its end: where errors are). */
export const STDERR_LIMIT = 4096;
/** What is kept of a failed step's stdout. */
export const STDOUT_LIMIT = 2048;
/**
 * Ends the here-document that carries a step's input as base64: a `-` cannot occur in
 * base64, so no line of the input can end it early.
 */
export const INPUT_END = "BATON-INPUT-END";

export function newBoundary(): string {
  return `BATON-${randomBytes(16).toString("hex")}`;
}

/**
 * Command lines for argvs; a module's own `sh -c SCRIPT sh ARGS…` becomes a call of a
 * function defined once at the top (a fork instead of starting a new sh every time).
 */
class CommandLines {
  private readonly functions = new Map<string, string>();

  /** The command, in a subshell unless it is a module function that leaves the shell alone. */
  line(argv: readonly string[]): string {
    const [shell, flag, script, name, ...args] = argv;
    if (shell === "sh" && flag === "-c" && name === "sh" && script && isModuleScript(script)) {
      let fn = this.functions.get(script);
      if (fn === undefined) {
        fn = `baton_fn${this.functions.size}`;
        this.functions.set(script, fn);
      }
      const call = quoteArgv([fn, ...args]);
      return scriptUse(script)?.inShell ? call : `( ${call} )`;
    }
    return `( ${quoteArgv(argv)} )`;
  }

  /** The definitions, to put before the first call. */
  definitions(): string[] {
    return [...this.functions].map(([script, fn]) => `${fn}() {\n${script}\n}`);
  }
}

/** Temporary files for the commands' output, removed however the script ends. */
function prologue(names: readonly string[], commands: CommandLines): string[] {
  return [
    ...names.map((name) => `${name}=$(mktemp) || exit 111`),
    `trap 'rm -f ${names.map((name) => `"$${name}"`).join(" ")}' EXIT`,
    ...commands.definitions(),
  ];
}

function marker(boundary: string, tag: string): string {
  return `printf '\\n%s %s\\n' '${boundary}' "${tag}"`;
}

/**
 * Runs every probe and prints, for each: `\n<B> O <i>\n` stdout `\n<B> E <code>\n` stderr
 * (its last STDERR_LIMIT bytes); then `\n<B> END\n`.
 */
export function observeScript(probes: readonly (readonly string[])[], boundary: string): string {
  const commands = new CommandLines();
  const lines: string[] = prefetch(probes);
  probes.forEach((argv, index) => {
    lines.push(
      marker(boundary, `O ${index}`),
      `${commands.line(argv)} </dev/null 2>"$e"`,
      "c=$?",
      marker(boundary, "E $c"),
      `if [ -s "$e" ]; then tail -c ${STDERR_LIMIT} "$e"; fi`,
    );
  });
  lines.push(marker(boundary, "END"));
  return `${[...prologue(["e", "ps", "hs"], commands), ...lines].join("\n")}\n`;
}

/** Beyond this many bytes of paths, paths are stat'ed one by one (an argv has its limits). */
const PREFETCH_LIMIT = 64 * 1024;

/**
 * `baton_stat` and `baton_sha256` that answer from one `stat` and one `sha256sum` of every
 * path the probes will ask about, read line by line in the probes' order from fds 3 and 4
 * (a subshell reading an inherited fd moves the shared offset). Each line carries its path
 * and is used only when the path is the one asked about; anything else (a path that came or
 * went since, a name with a newline) is looked at afresh.
 */
function prefetch(probes: readonly (readonly string[])[]): string[] {
  const statPaths: string[] = [];
  const hashPaths: string[] = [];
  for (const [shell, flag, script, name, path] of probes) {
    if (shell !== "sh" || flag !== "-c" || name !== "sh" || !script || path === undefined) continue;
    const use = scriptUse(script);
    if (use?.stats) statPaths.push(path);
    if (use?.hashes) hashPaths.push(path);
  }
  const size = [...statPaths, ...hashPaths].reduce((sum, path) => sum + path.length + 3, 0);
  const enabled = size <= PREFETCH_LIMIT;
  const words = (paths: readonly string[]) => paths.map((path) => quoteArg(path)).join(" ");
  const lines = [
    "baton_stat() {",
    '  if [ ! -e "$1" ] && [ ! -L "$1" ]; then echo absent; return 0; fi',
    '  if [ -n "$baton_ps" ] && IFS= read -r baton_l <&3 && [ "${baton_l#*\t}" = "$1" ]; then',
    "    printf '%s\\n' \"${baton_l%%\t*}\"; return 0",
    "  fi",
    `  stat -c "${STAT_FORMAT}" -- "$1"`,
    "}",
    "baton_sha256() {",
    '  if [ -n "$baton_hs" ] && IFS= read -r baton_l <&4 && [ "${baton_l#*  }" = "$1" ]; then',
    "    baton_h=${baton_l%% *}; return 0",
    "  fi",
    '  baton_h=$(sha256sum < "$1") && baton_h=${baton_h%% *}',
    "}",
  ];
  if (enabled && statPaths.length > 0) {
    lines.push(
      "set --",
      `for p in ${words(statPaths)}; do if [ -e "$p" ] || [ -L "$p" ]; then set -- "$@" "$p"; fi; done`,
      `if [ $# -gt 0 ]; then stat -c "${STAT_FORMAT}\t%n" -- "$@" >"$ps" 2>/dev/null; exec 3<"$ps"; baton_ps=1; fi`,
    );
  }
  if (enabled && hashPaths.length > 0) {
    lines.push(
      "set --",
      `for p in ${words(hashPaths)}; do if [ -f "$p" ] && [ ! -L "$p" ]; then set -- "$@" "$p"; fi; done`,
      'if [ $# -gt 0 ]; then sha256sum -- "$@" >"$hs" 2>/dev/null; exec 4<"$hs"; baton_hs=1; fi',
    );
  }
  return lines;
}

/** The parts of a framed output: each tag with the bytes that follow it up to the next. */
function frames(output: Buffer, boundary: string): { tag: string; body: string }[] {
  const separator = Buffer.from(`\n${boundary} `);
  const parts: { tag: string; body: string }[] = [];
  let at = output.indexOf(separator);
  while (at >= 0) {
    const start = at + separator.length;
    const newline = output.indexOf(10, start);
    if (newline < 0) break;
    const next = output.indexOf(separator, newline + 1);
    const end = next < 0 ? output.length : next;
    parts.push({
      tag: output.subarray(start, newline).toString("utf8"),
      body: output.subarray(newline + 1, end).toString("utf8"),
    });
    at = next;
  }
  return parts;
}

export interface ObserveOutput {
  /** By the probe's index in the script; a probe the script never reached is missing. */
  readonly results: ReadonlyMap<number, ProbeResult>;
  /** The script ran to its end. */
  readonly complete: boolean;
}

export function parseObserveOutput(output: Buffer, boundary: string): ObserveOutput {
  const results = new Map<number, ProbeResult>();
  let complete = false;
  let current: { index: number; stdout: string } | undefined;
  for (const { tag, body } of frames(output, boundary)) {
    const [kind, value] = tag.split(" ");
    if (kind === "O") current = { index: Number(value), stdout: body };
    else if (kind === "E" && current !== undefined) {
      results.set(current.index, { code: Number(value), stdout: current.stdout, stderr: body });
      current = undefined;
    } else if (kind === "END") complete = true;
  }
  return { results, complete };
}

/**
 * An input a shell string can hold (text without NUL), given to printf — a builtin, so no
 * command is started to deliver it; undefined for anything else, which goes as base64.
 */
function shellText(input: string | Buffer): string | undefined {
  const text = typeof input === "string" ? input : input.toString("utf8");
  if (text.includes("\0")) return undefined;
  if (typeof input !== "string" && !Buffer.from(text, "utf8").equals(input)) return undefined;
  return text;
}

/** base64 in lines of 76, as `base64` writes it. */
function base64Lines(input: string | Buffer): string {
  const encoded = Buffer.from(input).toString("base64");
  const lines: string[] = [];
  for (let at = 0; at < encoded.length; at += 76) lines.push(encoded.slice(at, at + 76));
  return lines.join("\n");
}

/**
 * Runs the steps in order and stops at the first that fails. Prints `\n<B> S <i>\n` before
 * each step; for a failure `\n<B> F <code>\n` stderr `\n<B> O\n` stdout; then `\n<B> END\n`.
 */
export function applyScript(steps: readonly ApplyStep[], boundary: string): string {
  const commands = new CommandLines();
  const lines: string[] = [];
  steps.forEach((step, index) => {
    lines.push(marker(boundary, `S ${index}`));
    const command = `${commands.line(step.argv)} >"$o" 2>"$e"`;
    const text = step.input === undefined ? undefined : shellText(step.input);
    if (step.input === undefined) lines.push(`${command} </dev/null`);
    else if (text !== undefined) lines.push(`printf '%s' ${quoteArg(text)} | ${command}`);
    else lines.push(`base64 -d <<'${INPUT_END}' | ${command}`, base64Lines(step.input), INPUT_END);
    lines.push(
      "c=$?",
      'if [ "$c" -ne 0 ]; then',
      `  ${marker(boundary, "F $c")}`,
      `  tail -c ${STDERR_LIMIT} "$e"`,
      `  ${marker(boundary, "O")}`,
      `  tail -c ${STDOUT_LIMIT} "$o"`,
      `  ${marker(boundary, "END")}`,
      "  exit 0",
      "fi",
    );
  });
  lines.push(marker(boundary, "END"));
  return `${[...prologue(["e", "o"], commands), ...lines].join("\n")}\n`;
}

export interface ApplyOutput {
  /** Steps that ran and succeeded: every step before `failed` (or the last one started). */
  readonly succeeded: number;
  /** The step that failed, with its exit code and output. */
  readonly failed?: {
    readonly index: number;
    readonly code: number;
    readonly stderr: string;
    readonly stdout: string;
  };
  /** The script ran to its end (false: the connection or the shell died mid-way). */
  readonly complete: boolean;
}

export function parseApplyOutput(output: Buffer, boundary: string): ApplyOutput {
  let started = -1;
  let failed: ApplyOutput["failed"];
  let complete = false;
  for (const { tag, body } of frames(output, boundary)) {
    const [kind, value] = tag.split(" ");
    if (kind === "S") started = Number(value);
    else if (kind === "F")
      failed = { index: started, code: Number(value), stderr: body, stdout: "" };
    else if (kind === "O" && failed !== undefined) failed = { ...failed, stdout: body };
    else if (kind === "END") complete = true;
  }
  if (failed !== undefined) return { succeeded: failed.index, failed, complete };
  // Without END, the step last started never said how it ended.
  return { succeeded: complete ? started + 1 : Math.max(0, started), complete };
}
