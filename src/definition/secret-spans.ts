/**
 * Where a definition's text holds secrets, so that no error shows them (issue 19): a bad
 * webhook URL echoed by `baton validate` or the API's 422 hands its token to whoever reads
 * the output. Errors mask these ranges in the source line they show and never name what is
 * in them.
 */
import { isMap, isPair, isScalar, type Node, type Pair, parseDocument, visit } from "yaml";
import type { Diagnostic } from "../api/error.js";

/** [start, end) character offsets into the text. */
export type Range = readonly [start: number, end: number];

/** What stands in an error for a value that holds a secret. */
export const SECRET_SHOWN = "(secret, not shown)";

/** Notifier fields whose whole value is a credential (a Slack URL is a token). */
const NOTIFIER_SECRETS = new Set(["webhook", "slack"]);
/**
 * Keys whose value is a secret wherever they are: passwords, tokens. Not `secret:` nor a
 * step's `secrets:`: they name where a secret is kept (`{ secret: db-password }`), and an
 * error about a wrong name must show it.
 */
const SECRET_KEY = /^(password|passwd|token|api[-_]?key)$/i;
/** Names of env variables that hold secrets by their words (over-masking is harmless). */
const SECRET_ENV_NAME =
  /PASS|SECRET|TOKEN|KEY|CREDENTIAL|PRIVATE|AUTH|SALT|CERT|SIGNATURE|COOKIE|DSN/i;
/**
 * The same keys as the text writes them, for a file YAML cannot parse (an unclosed quote in a
 * webhook line): the rest of the line, or of the flow mapping's entry, after the key.
 */
const SECRET_TEXT =
  /(?:^|[\s{,])(?:webhook|slack|password|passwd|token|api[-_]?key)\s*:[ \t]*([^\s,{}#][^,}#\r\n]*)/gim;

/** The ranges of `text` that hold secrets, sorted, possibly overlapping. */
export function secretRanges(text: string): Range[] {
  const ranges: Range[] = [];
  for (const match of text.matchAll(SECRET_TEXT)) {
    const value = match[1] ?? "";
    const start = (match.index ?? 0) + match[0].length - value.length;
    ranges.push([start, start + value.trimEnd().length]);
  }
  try {
    const document = parseDocument(text, { uniqueKeys: false, merge: true });
    visit(document, {
      Pair(_key, pair, path) {
        const keys = path.filter(isPair).map((p) => keyOf(p as Pair));
        const key = keyOf(pair);
        const parent = path[path.length - 1];
        const value = pair.value as Node | null;
        if (value === null || value.range === undefined || value.range === null) return;
        // `{ secret: NAME }` stands for a value kept in the secrets file: it holds a name only.
        const reference = isMap(value) && value.items.some((item) => keyOf(item) === "secret");
        const secret =
          (!reference && SECRET_KEY.test(key)) ||
          (!reference && NOTIFIER_SECRETS.has(key) && keys.includes("notifiers")) ||
          (keys[keys.length - 1] === "env" && SECRET_ENV_NAME.test(key) && !reference) ||
          (key === "content" && isMap(parent) && secretFlag(parent.items as Pair[]));
        if (secret) ranges.push([value.range[0], value.range[1]]);
      },
    });
  } catch {
    // The textual ranges above still hold.
  }
  return ranges.sort((a, b) => a[0] - b[0]);
}

/** `text` with every character of `ranges` but line breaks replaced: the same lines, columns. */
export function maskedText(text: string, ranges: readonly Range[]): string {
  if (ranges.length === 0) return text;
  // Offsets are UTF-16 units, as the parser counts them.
  const units = text.split("");
  for (const [start, end] of ranges) {
    for (let i = start; i < end && i < units.length; i++) {
      if (units[i] !== "\n" && units[i] !== "\r") units[i] = "*";
    }
  }
  return units.join("");
}

/** The texts in `ranges` (each as written, and unquoted), longest first, for redaction. */
export function secretTexts(text: string, ranges: readonly Range[]): string[] {
  const texts = new Set<string>();
  for (const [start, end] of ranges) {
    const written = text.slice(start, end).trim();
    if (written === "") continue;
    texts.add(written);
    const unquoted = written.replace(/^(["'])([\s\S]*)\1$/, "$2");
    if (unquoted !== "") texts.add(unquoted);
    for (const line of unquoted.split(/\r?\n/)) if (line.trim().length >= 4) texts.add(line.trim());
  }
  return [...texts].sort((a, b) => b.length - a.length);
}

function keyOf(pair: Pair): string {
  const key = pair.key;
  return isScalar(key) ? String(key.value) : "";
}

function secretFlag(items: readonly Pair[]): boolean {
  return items.some(
    (item) => keyOf(item) === "secret" && isScalar(item.value) && item.value.value === true,
  );
}

/**
 * The diagnostics with nothing of a secret in them: one that points into a secret's value
 * names no found value, and no text of a secret is left in any field of any of them.
 */
export function redactDiagnostics(
  diagnostics: readonly Diagnostic[],
  sources: ReadonlyMap<string, string>,
): Diagnostic[] {
  const byFile = new Map<string, { ranges: Range[]; texts: string[]; lines: number[] }>();
  const secretsOf = (file: string) => {
    let found = byFile.get(file);
    const text = sources.get(file);
    if (found === undefined && text !== undefined) {
      const ranges = secretRanges(text);
      found = { ranges, texts: secretTexts(text, ranges), lines: lineStarts(text) };
      byFile.set(file, found);
    }
    return found;
  };
  return diagnostics.map((d) => {
    const secrets = secretsOf(d.file);
    if (secrets === undefined || secrets.ranges.length === 0) return d;
    const at = d.line > 0 ? (secrets.lines[d.line - 1] ?? 0) + d.col - 1 : -1;
    const inside = secrets.ranges.some(
      ([start, end]) => at >= start && at < Math.max(end, start + 1),
    );
    // Short texts ("42") only where the diagnostic points into the secret: elsewhere they are
    // too likely to be part of other words.
    const clean = (text: string): string =>
      secrets.texts.reduce(
        (out, secret) => (secret.length >= 4 ? out.replaceAll(secret, SECRET_SHOWN) : out),
        text,
      );
    let message = d.message;
    if (inside && d.found !== undefined) message = message.replaceAll(d.found, SECRET_SHOWN);
    return {
      ...d,
      message: clean(message),
      ...(d.found === undefined ? {} : { found: inside ? SECRET_SHOWN : clean(d.found) }),
      ...(d.expected === undefined ? {} : { expected: clean(d.expected) }),
      ...(d.hint === undefined ? {} : { hint: clean(d.hint) }),
    };
  });
}

/** Offsets of the start of each line. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}
