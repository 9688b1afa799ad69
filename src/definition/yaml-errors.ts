/**
 * YAML syntax errors, rewritten for people: the `yaml` library's messages describe its
 * parser ("Implicit keys need to be on a single line"); ours say what is wrong in the file
 * and how to fix it, at the place the user has to edit (e.g. the opening quote of an
 * unclosed string, not the end of the file where the parser noticed).
 */
import { isAlias, isCollection, isScalar, Scalar, type YAMLError } from "yaml";
import type { Diagnostic } from "./errors.js";
import { formatPath } from "./phrases.js";
import { keyText, type Span, type YamlSource } from "./yaml-source.js";

interface Explained {
  readonly code: string;
  readonly span: Span;
  readonly message: string;
  readonly hint: string;
  readonly path?: string;
}

/** Diagnostics for the file's YAML syntax; empty when the YAML is well-formed. */
export function syntaxDiagnostics(source: YamlSource, file: string): Diagnostic[] {
  // One mistake often trips several parser errors at the same place; the first says most.
  const seenOffsets = new Set<number>();
  const errors = source.document.errors.filter((error) => {
    const first = !seenOffsets.has(error.pos[0]);
    seenOffsets.add(error.pos[0]);
    return first;
  });
  const explained = [
    ...errors.map((error) => explain(error, source)),
    ...unresolvedAliases(source),
  ];
  // ...or on the same line.
  const seenLines = new Set<number>();
  const diagnostics: Diagnostic[] = [];
  for (const e of explained) {
    if (seenLines.has(e.span.line)) continue;
    seenLines.add(e.span.line);
    diagnostics.push({
      code: e.code,
      message: e.message,
      file,
      ...e.span,
      path: e.path ?? "",
      hint: e.hint,
    });
  }
  return diagnostics;
}

function explain(error: YAMLError, source: YamlSource): Explained {
  const [start, end] = error.pos;
  const at = source.span(start, end);
  switch (error.code) {
    case "TAB_AS_INDENT":
      return {
        code: "spec.tab_indent",
        span: at,
        message: `line ${at.line} is indented with a tab`,
        hint: "YAML forbids tabs for indentation; indent with spaces",
      };
    case "DUPLICATE_KEY":
      return duplicateKey(source, start, at);
    case "MISSING_CHAR":
      return /quote/.test(error.message)
        ? unclosedQuote(source, start, at)
        : {
            code: "spec.yaml_syntax",
            span: at,
            message: `a character is missing here (${lowerFirst(error.message)})`,
            hint: "add the missing character",
          };
    case "BAD_INDENT":
      return badIndent(source, error.message, start, at);
    case "BLOCK_AS_IMPLICIT_KEY":
      return nestedKey(source, start, at);
    case "MULTILINE_IMPLICIT_KEY":
      return {
        code: "spec.yaml_syntax",
        span: at,
        message: "YAML reads this as a key that runs onto the next line",
        hint: "add the missing `:` after the key, or fix the indentation of the next line",
      };
    case "MULTIPLE_DOCS":
      return {
        code: "spec.yaml_syntax",
        span: at,
        message: "the file holds more than one YAML document (a `---` line starts another)",
        hint: "a definition is a single document; remove the `---` and merge the two",
      };
    case "BAD_DQ_ESCAPE": {
      // The parser marks the backslash; the character after it is what makes it invalid.
      const sequence = source.text.slice(start, Math.max(end, start + 2));
      return {
        code: "spec.yaml_syntax",
        span: source.span(start, start + sequence.length),
        message: `\`${sequence}\` is not a valid escape in a double-quoted string`,
        hint: "write `\\\\` for a backslash, or use single quotes, which have no escapes",
      };
    }
    case "BAD_SCALAR_START":
      return {
        code: "spec.yaml_syntax",
        span: source.span(start, lineEndOf(source.text, start)),
        message: `a value cannot start with \`${source.text[start] ?? ""}\` unless it is quoted`,
        hint: "put the value in quotes",
      };
    default:
      return {
        code: "spec.yaml_syntax",
        span: at,
        message: `YAML cannot read this: ${lowerFirst(error.message)}`,
        hint: "check the indentation and the `:` and `-` on this line and the line above",
      };
  }
}

function duplicateKey(source: YamlSource, start: number, at: Span): Explained {
  const found = source.pairAt(start);
  const key = found?.path[found.path.length - 1];
  if (!found || key === undefined) {
    return {
      code: "spec.duplicate_key",
      span: at,
      message: "this key appears twice in the same mapping",
      hint: "YAML keys must be unique in a mapping; keep only one",
    };
  }
  const first = found.map.items.find((pair) => pair !== found.pair && keyText(pair.key) === key);
  const firstStart = first && isScalar(first.key) ? first.key.range?.[0] : undefined;
  const firstLine = firstStart === undefined ? undefined : source.position(firstStart).line;
  const path = formatPath(found.path);
  return {
    code: "spec.duplicate_key",
    span: source.span(start, (isScalar(found.pair.key) && found.pair.key.range?.[1]) || start + 1),
    path,
    message:
      firstLine === undefined
        ? `${path} is set twice`
        : `${path} is set twice; it was first set on line ${firstLine}`,
    hint: "YAML keys must be unique in a mapping; keep only one",
  };
}

/** The parser notices a missing closing quote at the end of the file; point at the opening one. */
function unclosedQuote(source: YamlSource, errorAt: number, at: Span): Explained {
  let opening: Scalar | undefined;
  for (const node of source.nodes()) {
    if (!isScalar(node)) continue;
    const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE;
    const range = node.range;
    if (quoted && range && range[0] < errorAt && range[1] >= errorAt) {
      if (!opening || (opening.range?.[0] ?? 0) < range[0]) opening = node;
    }
  }
  const quote = opening?.type === Scalar.QUOTE_SINGLE ? "'" : '"';
  const start = opening?.range?.[0];
  return {
    code: "spec.yaml_syntax",
    span: start === undefined ? at : source.span(start, lineEndOf(source.text, start)),
    message: `this ${quote === '"' ? "double" : "single"}-quoted string is never closed`,
    hint: `add the closing \`${quote}\`; without it YAML reads the rest of the file as part of the string`,
  };
}

function badIndent(source: YamlSource, message: string, start: number, at: Span): Explained {
  const bracket = /end with an? ([\]}])/.exec(message)?.[1];
  if (bracket !== undefined) return unclosedFlow(source, bracket, start, at);
  // The parser points at the start of the line; the key that is out of line is the culprit.
  const lineEnd = lineEndOf(source.text, start);
  const lineText = source.text.slice(start, lineEnd);
  const indent = lineText.length - lineText.trimStart().length;
  const word = /^[^\s:]+/.exec(lineText.trimStart())?.[0] ?? "";
  const keyStart = start + indent;
  return {
    code: "spec.yaml_syntax",
    span: word === "" ? at : source.span(keyStart, keyStart + word.length),
    message:
      word === ""
        ? "this line is not indented like the lines around it"
        : `\`${word}\` is not aligned with the keys above it`,
    hint: "keys of one mapping must start at the same column; indent with spaces to match them",
  };
}

/** A `[` or `{` never closed: the parser notices on a later line; point at the opening. */
function unclosedFlow(source: YamlSource, bracket: string, errorAt: number, at: Span): Explained {
  const opening = bracket === "]" ? "[" : "{";
  let start: number | undefined;
  for (const node of source.nodes()) {
    if (!isCollection(node) || !node.flow || !node.range) continue;
    const [from, to] = node.range;
    const closed = source.text.slice(from, to).trimEnd().endsWith(bracket);
    if (from < errorAt && to >= errorAt && !closed && (start === undefined || from > start)) {
      start = from;
    }
  }
  return {
    code: "spec.yaml_syntax",
    span: start === undefined ? at : source.span(start, lineEndOf(source.text, start)),
    message: `this \`${opening}\` is never closed with \`${bracket}\``,
    hint: `add the \`${bracket}\`; a \`${opening}…${bracket}\` that continues on the next line must be indented more than its key`,
  };
}

/**
 * A plain value followed by `key: value`: either on the same line (`command: a: b`), or a
 * next line indented deeper than its siblings, which YAML reads as a continuation.
 */
function nestedKey(source: YamlSource, start: number, at: Span): Explained {
  const lineEnd = lineEndOf(source.text, start);
  if (/:(\s|$)/.test(source.text.slice(start, lineEnd))) {
    return {
      code: "spec.yaml_syntax",
      span: at,
      message: "a value cannot contain a nested `key: value` on the same line",
      hint: "put the nested key on its own line, or quote the value if it contains `: `",
    };
  }
  const next = /^[ ]*(\S[^:\n]*)/.exec(source.text.slice(lineEnd + 1));
  const word = next?.[1]?.trim();
  if (next === null || word === undefined || word === "") {
    return {
      code: "spec.yaml_syntax",
      span: at,
      message: "YAML reads this value and the line below it as one key",
      hint: "check the indentation of the next line",
    };
  }
  const wordStart = lineEnd + 1 + next[0].length - next[1]!.length;
  return {
    code: "spec.yaml_syntax",
    span: source.span(wordStart, wordStart + word.length),
    message: `\`${word}\` is indented more than the keys above it`,
    hint: "keys of one mapping must start at the same column; YAML reads this line as part of the value above",
  };
}

/** `*name` with no `&name` before it: the parser accepts it, converting to JS would throw. */
function unresolvedAliases(source: YamlSource): Explained[] {
  const problems: Explained[] = [];
  for (const node of source.nodes()) {
    if (!isAlias(node) || node.resolve(source.document) !== undefined) continue;
    const [start, end] = node.range ?? [0, 1];
    problems.push({
      code: "spec.yaml_syntax",
      span: source.span(start, end),
      message: `\`*${node.source}\` refers to an anchor that is not defined above it`,
      hint: `mark the value to reuse with \`&${node.source}\` before this line`,
    });
  }
  return problems;
}

function lineEndOf(text: string, offset: number): number {
  const newline = text.indexOf("\n", offset);
  return newline === -1 ? text.length : newline;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
