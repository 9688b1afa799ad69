import { ExprError } from "./errors.js";

/**
 * Splits an expression into tokens, each with its offset. Durations are only read inside
 * `[...]`, where PromQL allows nothing else, so `5m` elsewhere is a number then a name and
 * the parser can say precisely what is wrong.
 */
export type TokenKind = "ident" | "number" | "string" | "duration" | "punct" | "op" | "eof";

export interface Token {
  readonly kind: TokenKind;
  /** The source text, except for strings: their unescaped value. */
  readonly text: string;
  readonly at: number;
  readonly end: number;
  /** Set for numbers (value) and durations (milliseconds). */
  readonly value?: number;
}

const IDENT_START = /[a-zA-Z_:]/;
const IDENT_PART = /[a-zA-Z0-9_:]/;
const DIGIT = /[0-9]/;
const DURATION = /^(?:[0-9]+(?:ms|s|m|h|d|w|y))+/;
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};
const TWO_CHAR_OPS = [">=", "<=", "==", "!=", "=~", "!~"];
const ONE_CHAR_OPS = "><=+-*/%^";
const PUNCT = "{}()[],";

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let inBrackets = false;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    const start = i;
    if (inBrackets && DIGIT.test(c)) {
      const match = DURATION.exec(text.slice(i));
      if (match === null) {
        throw new ExprError("expr.syntax", text, {
          offset: i,
          expected: "a duration such as 30s, 5m, 1h or 1h30m",
          found: describeRun(text, i),
          hint: "a duration is a whole number with a unit: ms, s, m, h, d, w or y",
        });
      }
      i += match[0].length;
      tokens.push({
        kind: "duration",
        text: match[0],
        at: start,
        end: i,
        value: durationMs(match[0]),
      });
      continue;
    }
    if (DIGIT.test(c) || (c === "." && DIGIT.test(text[i + 1] ?? ""))) {
      const match = /^(?:0[xX][0-9a-fA-F]+|(?:[0-9]*\.?[0-9]+|[0-9]+\.)(?:[eE][+-]?[0-9]+)?)/.exec(
        text.slice(i),
      );
      const raw = (match as RegExpExecArray)[0];
      i += raw.length;
      tokens.push({ kind: "number", text: raw, at: start, end: i, value: Number(raw) });
      continue;
    }
    if (IDENT_START.test(c)) {
      while (i < text.length && IDENT_PART.test(text[i] as string)) i++;
      tokens.push({ kind: "ident", text: text.slice(start, i), at: start, end: i });
      continue;
    }
    if (c === '"' || c === "'" || c === "`") {
      const { value, end } = readString(text, i);
      i = end;
      tokens.push({ kind: "string", text: value, at: start, end: i });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (TWO_CHAR_OPS.includes(two)) {
      i += 2;
      tokens.push({ kind: "op", text: two, at: start, end: i });
      continue;
    }
    if (ONE_CHAR_OPS.includes(c)) {
      i++;
      tokens.push({ kind: "op", text: c, at: start, end: i });
      continue;
    }
    if (PUNCT.includes(c)) {
      if (c === "[") inBrackets = true;
      if (c === "]") inBrackets = false;
      i++;
      tokens.push({ kind: "punct", text: c, at: start, end: i });
      continue;
    }
    throw new ExprError("expr.syntax", text, {
      offset: i,
      expected: "a metric name, number, function, operator or bracket",
      found: `'${c}'`,
      hint:
        c === "!"
          ? "negation is written as != or !~ inside {...}, or as a comparison operator"
          : "remove the character, or quote it inside a label value",
    });
  }
  tokens.push({ kind: "eof", text: "", at: text.length, end: text.length });
  return tokens;
}

function durationMs(text: string): number {
  let total = 0;
  for (const part of text.matchAll(/([0-9]+)(ms|s|m|h|d|w|y)/g)) {
    total += Number(part[1]) * (UNIT_MS[part[2] as string] as number);
  }
  return total;
}

/** PromQL strings: double or single quotes with Go escapes, or backticks taken verbatim. */
function readString(text: string, start: number): { value: string; end: number } {
  const quote = text[start] as string;
  let value = "";
  let i = start + 1;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === quote) return { value, end: i + 1 };
    if (c === "\n" && quote !== "`") break;
    if (c === "\\" && quote !== "`") {
      const next = text[i + 1];
      const escaped = next === undefined ? undefined : ESCAPES[next];
      if (escaped === undefined) {
        throw new ExprError("expr.syntax", text, {
          offset: i,
          expected: "an escape: \\\\, \\\", \\', \\n, \\t or \\r",
          found: `'\\${next ?? ""}'`,
          hint: 'in a regex write a backslash twice ("a\\\\.b"), or use a backtick string (`a\\.b`) where backslashes are literal',
        });
      }
      value += escaped;
      i += 2;
      continue;
    }
    value += c;
    i++;
  }
  throw new ExprError("expr.syntax", text, {
    offset: start,
    expected: `a closing ${quote}`,
    found: i < text.length ? "the end of the line" : "the end of the expression",
    hint: `close the string that starts here with ${quote}`,
  });
}

const ESCAPES: Readonly<Record<string, string>> = {
  "\\": "\\",
  '"': '"',
  "'": "'",
  "`": "`",
  n: "\n",
  t: "\t",
  r: "\r",
};

function describeRun(text: string, at: number): string {
  const run = /^[^\s\]]*/.exec(text.slice(at))?.[0] ?? "";
  return run === "" ? "the end of the expression" : `'${run}'`;
}
