/**
 * An app's `envFile:` read as Docker Compose reads an `env_file`: `KEY=VALUE` lines, `#`
 * comments, `export KEY=...`, single quotes literal, double quotes with `\n \r \t \\ \" \$`
 * escapes, both spanning lines, inline comments after a blank (`A=b # c`, but `A=b#c` is
 * `b#c`), and `${NAME}`, `${NAME:-default}`, `$NAME`, `$$` in unquoted and double-quoted values.
 *
 * Hand-written, not Node's `util.parseEnv` nor the `dotenv` package: measured on the compose
 * cases, both cut `A=b#c` to `b`, keep `\t` and `\'` as written, merge a line without `=` into
 * the next key and skip a broken line in silence; neither says where a problem is. This parser
 * returns every problem with its line and column, and never a value in a message (values may
 * be secrets).
 *
 * Names in `${...}` come from the lines above in the same file: unlike Compose, which reads
 * the shell of whoever runs it, a controller has no caller's shell to read, so an unknown name
 * is an error instead of an empty string.
 * TODO(secrets): a `${secret:NAME}` reference would be resolved here, beside the lines above.
 */

export interface EnvFileProblem {
  /** 1-based line and column in the env file. */
  readonly line: number;
  readonly col: number;
  readonly length: number;
  readonly message: string;
  readonly hint: string;
}

export interface ParsedEnvFile {
  /** In file order; a key given twice keeps its last value, as Compose does. */
  readonly env: Readonly<Record<string, string>>;
  readonly problems: readonly EnvFileProblem[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const DOUBLE_ESCAPES: Readonly<Record<string, string>> = {
  n: "\n",
  r: "\r",
  t: "\t",
  "\\": "\\",
  '"': '"',
  $: "$",
};

export function parseEnvFile(text: string): ParsedEnvFile {
  const env: Record<string, string> = {};
  const problems: EnvFileProblem[] = [];
  const source = text.replace(/\r\n/g, "\n");
  let at = 0;
  // Where each offset is, for problems: lines are counted as the parser goes.
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source[i] === "\n") lineStarts.push(i + 1);
  const position = (offset: number): { line: number; col: number } => {
    let line = 0;
    while (line + 1 < lineStarts.length && (lineStarts[line + 1] ?? 0) <= offset) line++;
    return { line: line + 1, col: offset - (lineStarts[line] ?? 0) + 1 };
  };
  const problem = (offset: number, length: number, message: string, hint: string): void => {
    problems.push({ ...position(offset), length: Math.max(1, length), message, hint });
  };
  const endOfLine = (from: number): number => {
    const end = source.indexOf("\n", from);
    return end === -1 ? source.length : end;
  };

  while (at < source.length) {
    const end = endOfLine(at);
    const line = source.slice(at, end);
    const indent = line.length - line.trimStart().length;
    let rest = line.slice(indent);
    let offset = at + indent;
    if (rest === "" || rest.startsWith("#")) {
      at = end + 1;
      continue;
    }
    if (/^export\s+/.test(rest)) {
      const skip = /^export\s+/.exec(rest)?.[0].length ?? 0;
      rest = rest.slice(skip);
      offset += skip;
    }
    const key = KEY.exec(rest)?.[0];
    if (key === undefined) {
      problem(
        offset,
        rest.trimEnd().length,
        "expected a line `KEY=VALUE`, found no variable name",
        "start the line with a name such as DB_HOST (letters, digits, _), or make it a `#` comment",
      );
      at = end + 1;
      continue;
    }
    const afterKey = rest.slice(key.length);
    const equals = /^\s*=/.exec(afterKey);
    if (equals === null) {
      const found = afterKey.trim() === "" ? "no `=`" : "something else after the name";
      problem(
        offset,
        key.length,
        `expected \`${key}=VALUE\`, found ${found}`,
        `write \`${key}=\` for an empty value; to pass the controller's own ${key}, list it in the app's \`inheritEnv:\``,
      );
      at = end + 1;
      continue;
    }
    let valueAt = offset + key.length + equals[0].length;
    while (source[valueAt] === " " || source[valueAt] === "\t") valueAt++;
    const quote = source[valueAt];
    const read =
      quote === "'" || quote === '"'
        ? readQuoted(source, valueAt, quote, env, problem, key)
        : readUnquoted(source, valueAt, end, env, problem, key);
    if (read.value !== undefined) env[key] = read.value;
    at = read.next;
  }
  return { env, problems };
}

type Problem = (offset: number, length: number, message: string, hint: string) => void;

/** An unquoted value: the rest of the line, less an inline comment that follows a blank. */
function readUnquoted(
  source: string,
  from: number,
  end: number,
  env: Readonly<Record<string, string>>,
  problem: Problem,
  key: string,
): { value: string | undefined; next: number } {
  let stop = end;
  for (let i = from; i < end; i++) {
    if (source[i] === "#" && (i === from || /\s/.test(source[i - 1] ?? ""))) {
      stop = i;
      break;
    }
  }
  const raw = source.slice(from, stop).trimEnd();
  const value = interpolate(raw, from, env, problem, key);
  return { value, next: end + 1 };
}

/** A quoted value, which may span lines; after its closing quote only a comment may follow. */
function readQuoted(
  source: string,
  from: number,
  quote: "'" | '"',
  env: Readonly<Record<string, string>>,
  problem: Problem,
  key: string,
): { value: string | undefined; next: number } {
  let raw = "";
  let i = from + 1;
  let closed = false;
  // Offsets of raw's characters in the source, for the column of a bad `${`.
  const offsets: number[] = [];
  while (i < source.length) {
    const c = source[i] ?? "";
    if (c === "\\" && i + 1 < source.length) {
      const next = source[i + 1] ?? "";
      if (quote === "'" && next === "'") {
        raw += "'";
        offsets.push(i);
        i += 2;
        continue;
      }
      if (quote === '"' && next in DOUBLE_ESCAPES) {
        // `\$` stays escaped until interpolation, which turns `$$` into `$`.
        raw += next === "$" ? "$$" : (DOUBLE_ESCAPES[next] ?? next);
        offsets.push(i);
        if (next === "$") offsets.push(i);
        i += 2;
        continue;
      }
    }
    if (c === quote) {
      closed = true;
      i++;
      break;
    }
    raw += c;
    offsets.push(i);
    i++;
  }
  const lineEnd = source.indexOf("\n", i) === -1 ? source.length : source.indexOf("\n", i);
  if (!closed) {
    problem(
      from,
      1,
      `the value of ${key} opens a ${quote === "'" ? "single" : "double"} quote that is never closed`,
      `close it with ${quote}, or escape a quote inside the value as \\${quote}`,
    );
    return { value: undefined, next: source.length };
  }
  const after = source.slice(i, lineEnd);
  if (after.trim() !== "" && !/^\s+#/.test(after) && !after.trim().startsWith("#")) {
    problem(
      i,
      after.trimEnd().length,
      `the value of ${key} goes on after its closing quote`,
      "put the whole value inside the quotes; a comment after it starts with ` #`",
    );
    return { value: undefined, next: lineEnd + 1 };
  }
  if (quote === "'") return { value: raw, next: lineEnd + 1 };
  const value = interpolate(raw, from + 1, env, problem, key, offsets);
  return { value, next: lineEnd + 1 };
}

/** `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `$NAME`, `$$`, from the lines above. */
function interpolate(
  raw: string,
  from: number,
  env: Readonly<Record<string, string>>,
  problem: Problem,
  key: string,
  offsets?: readonly number[],
): string | undefined {
  const offsetOf = (index: number): number => offsets?.[index] ?? from + index;
  let out = "";
  let ok = true;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c !== "$") {
      out += c;
      continue;
    }
    const next = raw[i + 1];
    if (next === "$") {
      out += "$";
      i++;
      continue;
    }
    if (next === "{") {
      const close = raw.indexOf("}", i + 2);
      const inner = close === -1 ? "" : raw.slice(i + 2, close);
      const name = NAME.exec(inner)?.[0];
      const operator = name === undefined ? undefined : /^:?-/.exec(inner.slice(name.length));
      const whole = name !== undefined && (inner === name || operator !== null);
      if (close === -1 || name === undefined || !whole) {
        problem(
          offsetOf(i),
          close === -1 ? 2 : close - i + 1,
          `the value of ${key} holds \`\${\` that is not a reference such as \${NAME} or \${NAME:-default}`,
          "write $$ for a literal $, or single-quote the value to keep it as written",
        );
        ok = false;
        i = close === -1 ? raw.length : close;
        continue;
      }
      const known = env[name];
      if (operator !== null && operator !== undefined) {
        const fallback = inner.slice(name.length + operator[0].length);
        const empty = known === undefined || (operator[0] === ":-" && known === "");
        out += empty ? fallback : known;
      } else if (known === undefined) {
        unknown(problem, offsetOf(i), close - i + 1, key, name);
        ok = false;
      } else {
        out += known;
      }
      i = close;
      continue;
    }
    const name = NAME.exec(raw.slice(i + 1))?.[0];
    if (name === undefined) {
      out += "$";
      continue;
    }
    const known = env[name];
    if (known === undefined) {
      unknown(problem, offsetOf(i), name.length + 1, key, name);
      ok = false;
    } else {
      out += known;
    }
    i += name.length;
  }
  return ok ? out : undefined;
}

function unknown(problem: Problem, offset: number, length: number, key: string, name: string) {
  problem(
    offset,
    length,
    `the value of ${key} refers to ${name}, which no line above defines`,
    `define ${name} on an earlier line, give a default (\${${name}:-value}), or write $$ for a literal $`,
  );
}
