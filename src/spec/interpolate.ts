/**
 * `${NAME}` in an argv command, expanded from the replica's env when it starts (an argv is
 * exec'd without a shell, so nothing else would expand it). `$$` is a literal `$`. Any other
 * `$` is an error rather than a literal: `$PORT` silently passed through as text is a bug
 * users only find at run time. One tokenizer serves both the check and the expansion, so
 * they cannot disagree.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: this file is about literal `${NAME}` text, not template placeholders

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NAME_START = /[A-Za-z_]/;
const NAME_CHARS = /^[A-Za-z0-9_]*/;

export interface InterpolationProblem {
  /** Offset of the offending `$` in the text. */
  readonly index: number;
  readonly message: string;
  readonly hint: string;
}

type Token =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "variable"; readonly name: string }
  | ({ readonly kind: "problem" } & InterpolationProblem);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let literalStart = 0;
  let i = 0;
  const flush = (end: number): void => {
    if (end > literalStart) tokens.push({ kind: "text", text: text.slice(literalStart, end) });
  };
  while (i < text.length) {
    if (text[i] !== "$") {
      i++;
      continue;
    }
    flush(i);
    const next = text[i + 1];
    if (next === "$") {
      tokens.push({ kind: "text", text: "$" });
      i += 2;
    } else if (next === "{") {
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
        const name = text.slice(i + 2, close);
        tokens.push(
          NAME.test(name)
            ? { kind: "variable", name }
            : {
                kind: "problem",
                index: i,
                message: `\`\${${name}}\` is not a valid variable name`,
                hint: "variable names are letters, digits and _, and do not start with a digit",
              },
        );
        i = close + 1;
      }
    } else if (next !== undefined && NAME_START.test(next)) {
      const name = next + (NAME_CHARS.exec(text.slice(i + 2))?.[0] ?? "");
      tokens.push({
        kind: "problem",
        index: i,
        message: `\`$${name}\` is not expanded: an argv command is not run by a shell`,
        hint: `write \`\${${name}}\` to use the variable, or \`$$${name}\` for the literal text`,
      });
      i += 1 + name.length;
    } else {
      tokens.push({
        kind: "problem",
        index: i,
        message: "a lone `$` is neither a variable nor a literal",
        hint: "write `$$` for a literal $, or `${NAME}` for a variable",
      });
      i += 1;
    }
    literalStart = i;
  }
  flush(text.length);
  return tokens;
}

/** Every malformed `$` in `text`; empty when the text is well-formed. */
export function interpolationProblems(text: string): InterpolationProblem[] {
  return tokenize(text).flatMap((t) =>
    t.kind === "problem" ? [{ index: t.index, message: t.message, hint: t.hint }] : [],
  );
}

/**
 * `text` with each `${NAME}` replaced by `lookup(NAME)` (an unset variable becomes the empty
 * string, as in a shell) and each `$$` by `$`. Throws on malformed text: definitions are
 * checked when loaded, so that is a bug.
 */
export function expandVariables(
  text: string,
  lookup: (name: string) => string | undefined,
): string {
  let out = "";
  for (const token of tokenize(text)) {
    if (token.kind === "text") out += token.text;
    else if (token.kind === "variable") out += lookup(token.name) ?? "";
    else throw new Error(`expandVariables: ${token.message}`);
  }
  return out;
}
