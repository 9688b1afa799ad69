import type { LabelMatcher } from "../series.js";
import type {
  Aggregation,
  AggregationOp,
  ArithmeticOp,
  ComparisonOp,
  Expr,
  FunctionName,
  RangeSelector,
  VectorSelector,
} from "./ast.js";
import { COMPARISON_OPS } from "./ast.js";
import { describeNode } from "./describe.js";
import { ExprError, type ExprErrorCode } from "./errors.js";
import { type Token, tokenize } from "./lexer.js";
import {
  AGGREGATIONS,
  CALLABLE,
  closest,
  FUNCTIONS,
  PROMQL_ONLY,
  QUANTILE_FUNCTION,
} from "./names.js";
import { rememberText } from "./source-text.js";
import { checkTypes } from "./types.js";

/**
 * Parses Baton's PromQL subset (grammar in README.md) by recursive descent, then checks
 * that ranges, numbers and series are used where they can be. Throws `ExprError`.
 */
export function parseExpr(text: string): Expr {
  const parser = new Parser(text);
  const expr = parser.parseExpression();
  parser.expectEnd();
  checkTypes(expr, text);
  rememberText(expr, text);
  return expr;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const MATCH_OPS = ["=", "!=", "=~", "!~"] as const;

class Parser {
  private readonly tokens: Token[];
  private index = 0;

  constructor(private readonly text: string) {
    this.tokens = tokenize(text);
  }

  parseExpression(): Expr {
    return this.parseComparison();
  }

  expectEnd(): void {
    const t = this.peek();
    if (t.kind === "eof") return;
    if (t.kind === "punct" && (t.text === ")" || t.text === "]" || t.text === "}")) {
      this.fail(
        t,
        "an operator or the end of the expression",
        `remove this '${t.text}' or add the bracket that opens it`,
      );
    }
    this.failOnUnsupportedKeyword(t);
    if (t.kind === "ident" && (t.text === "by" || t.text === "without")) {
      this.fail(
        t,
        "an operator or the end of the expression",
        `${t.text} (...) belongs to an aggregation: sum ${t.text} (app) (...) or sum (...) ${t.text} (app)`,
      );
    }
    this.fail(
      t,
      "an operator (> >= < <= == != + - * /) or the end of the expression",
      "two terms need an operator between them, e.g. `x > 0`",
    );
  }

  private parseComparison(): Expr {
    let left = this.parseAdditive();
    for (;;) {
      const t = this.peek();
      if (t.kind === "op" && (COMPARISON_OPS as readonly string[]).includes(t.text)) {
        this.next();
        const bool = this.acceptIdent("bool");
        const right = this.parseAdditive();
        left = { kind: "binary", at: t.at, op: t.text as ComparisonOp, bool, left, right };
        continue;
      }
      if (t.kind === "op" && t.text === "=") {
        this.fail(
          t,
          "a comparison operator",
          "compare for equality with ==; a single = only matches labels inside {...}",
        );
      }
      this.failOnUnsupportedKeyword(t);
      return left;
    }
  }

  private parseAdditive(): Expr {
    let left = this.parseMultiplicative();
    for (;;) {
      const t = this.peek();
      if (t.kind !== "op" || (t.text !== "+" && t.text !== "-")) return left;
      this.next();
      this.rejectBoolAfterArithmetic();
      const right = this.parseMultiplicative();
      left = { kind: "binary", at: t.at, op: t.text as ArithmeticOp, bool: false, left, right };
    }
  }

  private parseMultiplicative(): Expr {
    let left = this.parseUnary();
    for (;;) {
      const t = this.peek();
      if (t.kind === "op" && (t.text === "%" || t.text === "^")) {
        this.unsupported(t, `the ${t.text} operator`, "use + - * or /");
      }
      if (t.kind !== "op" || (t.text !== "*" && t.text !== "/")) return left;
      this.next();
      this.rejectBoolAfterArithmetic();
      const right = this.parseUnary();
      left = { kind: "binary", at: t.at, op: t.text as ArithmeticOp, bool: false, left, right };
    }
  }

  private parseUnary(): Expr {
    const t = this.peek();
    if (t.kind === "op" && (t.text === "-" || t.text === "+")) {
      this.next();
      const arg = this.parseUnary();
      if (t.text === "+") return arg;
      if (arg.kind === "number") return { kind: "number", at: t.at, value: -arg.value };
      return { kind: "negate", at: t.at, arg };
    }
    return this.parsePostfix();
  }

  private parsePostfix(): Expr {
    const primary = this.parsePrimary();
    const t = this.peek();
    if (t.kind === "punct" && t.text === "[") {
      if (primary.kind !== "vector") {
        this.fail(
          t,
          "an operator or the end of the expression",
          "a range [d] can only follow a metric selector, e.g. rate(x[5m])",
        );
      }
      return this.parseRange(primary as VectorSelector);
    }
    if (t.kind === "ident" && t.text === "offset") {
      this.unsupported(t, "offset", "alerts look at the newest samples; drop the offset");
    }
    if (t.kind === "op" && t.text === "@") {
      this.unsupported(t, "the @ modifier", "drop it");
    }
    return primary;
  }

  private parseRange(vector: VectorSelector): RangeSelector {
    const open = this.next();
    const d = this.peek();
    if (d.kind !== "duration") {
      this.fail(d, "a duration such as 5m", "write the window inside the brackets, e.g. [5m]");
    }
    this.next();
    const close = this.peek();
    if (close.kind === "ident" && close.text.startsWith(":")) {
      this.unsupported(close, "subqueries ([range:step])", "use a plain range such as [5m]");
    }
    this.expectPunct("]", "close the range with ], e.g. [5m]");
    if ((d.value as number) <= 0) {
      this.fail(d, "a duration above zero", "use a window such as [5m]");
    }
    return { kind: "range", at: vector.at, vector, rangeMs: d.value as number, bracketAt: open.at };
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    if (t.kind === "number") {
      this.next();
      return { kind: "number", at: t.at, value: t.value as number };
    }
    if (t.kind === "punct" && t.text === "(") {
      this.next();
      const inner = this.parseExpression();
      this.expectPunct(")", "close the parenthesis opened earlier with )");
      return { kind: "parens", at: t.at, inner };
    }
    if (t.kind === "punct" && t.text === "{") {
      this.fail(t, "a metric name", 'start the selector with the metric name, e.g. up{app="api"}');
    }
    if (t.kind === "string") {
      this.fail(
        t,
        "a metric name, number or function",
        "strings only appear as label values inside {...}",
      );
    }
    if (t.kind === "ident") return this.parseIdentifier(t);
    if (t.kind === "eof") {
      this.fail(
        t,
        "a metric name, number or function",
        this.index === 0
          ? 'write an expression, e.g. up{app="api"} == 0'
          : "the expression stops too early; complete it",
      );
    }
    this.failOnUnsupportedKeyword(t);
    if (t.kind === "punct" && t.text === ")") {
      this.fail(
        t,
        "a metric name, number or function",
        "something is missing before this ')', e.g. sum(x) or rate(x[5m])",
      );
    }
    return this.fail(
      t,
      "a metric name, number or function",
      "an operator needs something on both sides",
    );
  }

  private parseIdentifier(t: Token): Expr {
    const after = this.peekAt(1);
    const lower = t.text.toLowerCase();
    if (
      (lower === "inf" || lower === "nan") &&
      !(after.kind === "punct" && (after.text === "(" || after.text === "{"))
    ) {
      this.next();
      return {
        kind: "number",
        at: t.at,
        value: lower === "inf" ? Number.POSITIVE_INFINITY : Number.NaN,
      };
    }
    if ((AGGREGATIONS as readonly string[]).includes(t.text)) return this.parseAggregation();
    if (t.text === "by" || t.text === "without") {
      this.fail(
        t,
        "a metric name, number or function",
        `'${t.text}' belongs to an aggregation: sum ${t.text} (app) (x) or sum (x) ${t.text} (app)`,
      );
    }
    this.failOnUnsupportedKeyword(t);
    if (after.kind === "punct" && after.text === "(") return this.parseCall();
    return this.parseSelector();
  }

  private parseCall(): Expr {
    const name = this.next();
    if (name.text === QUANTILE_FUNCTION) return this.parseQuantile(name);
    if (!(FUNCTIONS as readonly string[]).includes(name.text)) {
      if (PROMQL_ONLY.has(name.text)) {
        this.unsupported(
          name,
          `the function ${name.text}()`,
          `Baton's subset has ${listOf(CALLABLE)}`,
        );
      }
      const guess = closest(name.text, CALLABLE);
      this.fail(
        name,
        `a function (${listOf(CALLABLE)})`,
        guess !== undefined ? `did you mean ${guess}?` : `the functions are ${listOf(CALLABLE)}`,
        `unknown function '${name.text}'`,
      );
    }
    this.expectPunct("(", "");
    const arg = this.parseExpression();
    const close = this.peek();
    if (close.kind === "punct" && close.text === ",") {
      this.fail(close, "')'", `${name.text}() takes one argument, a range selector such as x[5m]`);
    }
    this.expectPunct(")", `close ${name.text}( with )`);
    if (arg.kind !== "range") {
      const example =
        arg.kind === "vector" ? `${name.text}(${arg.name}[5m])` : `${name.text}(x[5m])`;
      throw new ExprError("expr.type", this.text, {
        offset: arg.at,
        expected: `a range selector such as x[5m] as the argument of ${name.text}()`,
        found: describeNode(arg),
        hint: `${name.text}() needs the window it looks back over: ${example}`,
      });
    }
    return { kind: "call", at: name.at, fn: name.text as FunctionName, arg };
  }

  /** `histogram_quantile(φ, buckets)`: φ a number from 0 to 1, buckets a vector with `le`. */
  private parseQuantile(name: Token): Expr {
    this.expectPunct("(", "");
    const phi = this.parseExpression();
    if (phi.kind !== "number") {
      throw new ExprError("expr.type", this.text, {
        offset: phi.at,
        expected: `a number such as 0.99 as the first argument of ${name.text}()`,
        found: describeNode(phi),
        hint: `${name.text}(0.99, sum by (le) (rate(baton_http_request_duration_seconds_bucket[5m])))`,
      });
    }
    const comma = this.peek();
    if (!(comma.kind === "punct" && comma.text === ",")) {
      this.fail(
        comma,
        "','",
        `${name.text}() takes two arguments: the quantile and the buckets, e.g. ${name.text}(0.99, x_bucket)`,
      );
    }
    this.next();
    const arg = this.parseExpression();
    this.expectPunct(")", `close ${name.text}( with )`);
    return { kind: "quantile", at: name.at, phi: phi.value, arg };
  }

  private parseAggregation(): Aggregation {
    const opToken = this.next();
    let grouping = this.parseGrouping();
    const open = this.peek();
    if (!(open.kind === "punct" && open.text === "(")) {
      this.fail(
        open,
        `'(' after ${opToken.text}`,
        `aggregate an expression: ${opToken.text} by (app) (x) or ${opToken.text}(x)`,
      );
    }
    this.next();
    const arg = this.parseExpression();
    const close = this.peek();
    if (close.kind === "punct" && close.text === ",") {
      this.fail(close, "')'", `${opToken.text}() takes one argument`);
    }
    this.expectPunct(")", `close ${opToken.text}( with )`);
    const trailing = this.parseGrouping();
    if (trailing !== null) {
      if (grouping !== null) {
        this.fail(
          this.tokens[this.index - 1] as Token,
          "one grouping clause",
          "write by (...) either before or after the argument, not both",
        );
      }
      grouping = trailing;
    }
    return { kind: "aggregate", at: opToken.at, op: opToken.text as AggregationOp, grouping, arg };
  }

  private parseGrouping(): Aggregation["grouping"] {
    const t = this.peek();
    if (t.kind !== "ident" || (t.text !== "by" && t.text !== "without")) return null;
    this.next();
    this.expectPunct("(", `list the labels in parentheses: ${t.text} (app)`);
    const labels: string[] = [];
    for (;;) {
      const label = this.peek();
      if (label.kind === "punct" && label.text === ")") break;
      if (label.kind !== "ident" || !LABEL_NAME.test(label.text)) {
        this.fail(label, "a label name", `list label names, e.g. ${t.text} (app, code)`);
      }
      this.next();
      labels.push(label.text);
      const sep = this.peek();
      if (sep.kind === "punct" && sep.text === ",") {
        this.next();
        continue;
      }
      if (!(sep.kind === "punct" && sep.text === ")")) {
        this.fail(sep, "',' or ')'", "separate label names with commas");
      }
    }
    this.next();
    return { mode: t.text as "by" | "without", labels };
  }

  private parseSelector(): VectorSelector {
    const name = this.next();
    const matchers: LabelMatcher[] = [];
    const open = this.peek();
    if (open.kind === "punct" && open.text === "{") {
      this.next();
      for (;;) {
        const label = this.peek();
        if (label.kind === "punct" && label.text === "}") break;
        if (label.kind !== "ident" || !LABEL_NAME.test(label.text)) {
          this.fail(label, "a label name", 'match labels as name="value", e.g. {app="api"}');
        }
        this.next();
        const op = this.peek();
        if (op.kind !== "op" || !(MATCH_OPS as readonly string[]).includes(op.text)) {
          const hint =
            op.kind === "op" && op.text === "=="
              ? "labels match with a single ="
              : "use = != =~ or !~ between the label and its quoted value";
          this.fail(op, "a label matcher (= != =~ !~)", hint);
        }
        this.next();
        const value = this.peek();
        if (value.kind !== "string") {
          this.fail(
            value,
            "a quoted label value",
            `quote the value: ${label.text}${op.text}"${value.kind === "eof" ? "value" : value.text}"`,
          );
        }
        this.next();
        if (op.text === "=~" || op.text === "!~") this.checkRegex(value);
        if (label.text === "__name__") {
          this.unsupported(
            label,
            "matching on __name__",
            "write the metric name before the braces",
          );
        }
        matchers.push({ label: label.text, op: op.text as LabelMatcher["op"], value: value.text });
        const sep = this.peek();
        if (sep.kind === "punct" && sep.text === ",") {
          this.next();
          continue;
        }
        if (!(sep.kind === "punct" && sep.text === "}")) {
          this.fail(sep, "',' or '}'", "separate matchers with commas and close them with }");
        }
      }
      this.next();
    }
    return { kind: "vector", at: name.at, name: name.text, matchers };
  }

  private checkRegex(value: Token): void {
    try {
      new RegExp(`^(?:${value.text})$`);
    } catch (error) {
      throw new ExprError("expr.regex", this.text, {
        offset: value.at,
        expected: "a valid regular expression",
        found: `'${value.text}' (${(error as Error).message})`,
        hint: /\(\?[a-zA-Z]/.test(value.text)
          ? "flags and named groups in RE2 style, (?i) or (?P<name>...), are not supported; for case, list both: [Aa]pi"
          : 'fix the pattern; to match characters like . ( [ literally, escape them ("a\\\\.b") or use a backtick string',
      });
    }
  }

  private rejectBoolAfterArithmetic(): void {
    const t = this.peek();
    if (t.kind === "ident" && t.text === "bool") {
      this.fail(t, "an operand", "bool only follows a comparison operator, e.g. x > bool 0");
    }
  }

  private failOnUnsupportedKeyword(t: Token): void {
    if (t.kind !== "ident") return;
    if (t.text === "and" || t.text === "or" || t.text === "unless") {
      this.unsupported(
        t,
        `the set operator '${t.text}'`,
        "write a separate alert for each condition",
      );
    }
    if (t.text === "offset")
      this.unsupported(t, "offset", "alerts look at the newest samples; drop the offset");
    if (
      t.text === "on" ||
      t.text === "ignoring" ||
      t.text === "group_left" ||
      t.text === "group_right"
    ) {
      this.unsupported(
        t,
        `vector matching with '${t.text}'`,
        "both sides of an operator must have the same labels; aggregate them first, e.g. sum by (app) (...)",
      );
    }
  }

  private unsupported(t: Token, what: string, hint: string): never {
    return this.fail(
      t,
      "an expression in Baton's PromQL subset",
      `${what} is not in Baton's subset; ${hint}`,
      describeToken(t),
      "expr.unsupported",
    );
  }

  private expectPunct(text: string, hint: string): void {
    const t = this.peek();
    if (t.kind === "punct" && t.text === text) {
      this.next();
      return;
    }
    this.fail(t, `'${text}'`, hint === "" ? `add '${text}'` : hint);
  }

  private fail(
    t: Token,
    expected: string,
    hint: string,
    found = describeToken(t),
    code: ExprErrorCode = "expr.syntax",
  ): never {
    throw new ExprError(code, this.text, { offset: t.at, expected, found, hint });
  }

  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private peekAt(ahead: number): Token {
    return (this.tokens[this.index + ahead] ?? this.tokens[this.tokens.length - 1]) as Token;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== "eof") this.index++;
    return t;
  }

  private acceptIdent(text: string): boolean {
    const t = this.peek();
    if (t.kind === "ident" && t.text === text) {
      this.next();
      return true;
    }
    return false;
  }
}

function describeToken(t: Token): string {
  switch (t.kind) {
    case "eof":
      return "the end of the expression";
    case "string":
      return `the string "${t.text}"`;
    case "number":
      return `the number ${t.text}`;
    case "duration":
      return `the duration ${t.text}`;
    default:
      return `'${t.text}'`;
  }
}

function listOf(names: readonly string[]): string {
  return names.join(", ");
}
