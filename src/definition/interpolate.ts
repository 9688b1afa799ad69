/**
 * `${NAME}` in an argv command, expanded from the replica's env when it starts: an argv may
 * be exec'd without a shell, so Baton expands it. `${NAME:-default}` (unset or empty) and
 * `${NAME-default}` (unset) give a default, as in Compose and the shell; `$$` is a literal `$`.
 *
 * Everything else that starts with `$` belongs to whoever reads the text next and is passed
 * through untouched: `$PORT` in `["sh", "-c", "exec httpd -p $PORT"]` is the shell's to
 * expand (the most common container idiom), `$1` or `$HOME` a program's own syntax. Only a
 * `${` that Baton would misread is an error: an unclosed one, or shell syntax such as
 * `${NAME%%.*}` that it does not expand (written `$${…}` it reaches the shell).
 * One tokenizer serves both the check and the expansion, so they cannot disagree.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: this file is about literal `${NAME}` text, not template placeholders

/** `${NAME}`, `${NAME:-default}`, `${NAME-default}`; the default runs to the closing brace. */
const VARIABLE = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)(.*))?$/s;

export interface InterpolationProblem {
  /** Offset of the offending `$` in the text. */
  readonly index: number;
  readonly message: string;
  readonly hint: string;
}

type Token =
  | { readonly kind: "text"; readonly text: string }
  | {
      readonly kind: "variable";
      readonly name: string;
      /** `:-`: also when set but empty; `-`: only when unset. */
      readonly fallback?: { readonly whenEmpty: boolean; readonly text: string };
    }
  | ({ readonly kind: "problem" } & InterpolationProblem);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let literalStart = 0;
  let i = 0;
  const flush = (end: number): void => {
    if (end > literalStart) tokens.push({ kind: "text", text: text.slice(literalStart, end) });
  };
  while (i < text.length) {
    const next = text[i + 1];
    if (text[i] !== "$" || (next !== "$" && next !== "{")) {
      i++;
      continue;
    }
    flush(i);
    if (next === "$") {
      tokens.push({ kind: "text", text: "$" });
      i += 2;
    } else {
      const close = text.indexOf("}", i + 2);
      if (close === -1) {
        tokens.push({
          kind: "problem",
          index: i,
          message: `\`${text.slice(i)}\` opens \`\${\` without a closing \`}\``,
          hint: "write `${NAME}`; `$$` is a literal $",
        });
        i = text.length;
      } else {
        tokens.push(variableToken(text.slice(i + 2, close), i));
        i = close + 1;
      }
    }
    literalStart = i;
  }
  flush(text.length);
  return tokens;
}

function variableToken(inside: string, index: number): Token {
  const match = VARIABLE.exec(inside);
  if (match?.[1] !== undefined) {
    const [, name, operator, fallback] = match;
    return operator === undefined
      ? { kind: "variable", name }
      : {
          kind: "variable",
          name,
          fallback: { whenEmpty: operator === ":-", text: fallback ?? "" },
        };
  }
  const shown = `\${${inside}}`;
  return {
    kind: "problem",
    index,
    message: /^[A-Za-z_]/.test(inside)
      ? `\`${shown}\` is shell syntax that Baton does not expand`
      : `\`${shown}\` is not a valid variable name`,
    hint:
      "Baton expands `${NAME}`, `${NAME:-default}` and `${NAME-default}`; write " +
      `\`$${shown}\` to leave it to a shell (\`sh -c\`), and \`$$\` for a literal $`,
  };
}

/** Every malformed `${` in `text`; empty when the text is well-formed. */
export function interpolationProblems(text: string): InterpolationProblem[] {
  return tokenize(text).flatMap((t) =>
    t.kind === "problem" ? [{ index: t.index, message: t.message, hint: t.hint }] : [],
  );
}

/**
 * `text` with each `${NAME}` replaced by `lookup(NAME)` (an unset variable becomes the empty
 * string, as in a shell, unless a default is given) and each `$$` by `$`; any other `$` is
 * kept as written. Throws on malformed text: definitions are checked when loaded, so that is
 * a bug.
 */
export function expandVariables(
  text: string,
  lookup: (name: string) => string | undefined,
): string {
  let out = "";
  for (const token of tokenize(text)) {
    if (token.kind === "text") out += token.text;
    else if (token.kind === "variable") out += substitute(token, lookup(token.name));
    else throw new Error(`expandVariables: ${token.message}`);
  }
  return out;
}

function substitute(
  token: Extract<Token, { kind: "variable" }>,
  value: string | undefined,
): string {
  const fallback = token.fallback;
  if (fallback === undefined) return value ?? "";
  if (value === undefined || (fallback.whenEmpty && value === "")) return fallback.text;
  return value;
}
