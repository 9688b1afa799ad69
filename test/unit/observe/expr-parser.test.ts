import { describe, expect, it } from "vitest";
import { checkExpr, type Expr, ExprError, parseExpr } from "../../../src/observe/expr/index.js";

function parseError(text: string): ExprError {
  try {
    parseExpr(text);
  } catch (error) {
    if (error instanceof ExprError) return error;
    throw error;
  }
  throw new Error(`expected ${text} not to parse`);
}

describe("parseExpr: the constructs of the subset", () => {
  it("reads a selector with all four matchers, in any quote style", () => {
    const e = parseExpr('up{a="x", b!=\'y\', c=~`re.*`, d!~"r\\\\d"}');
    expect(e).toEqual({
      kind: "vector",
      at: 0,
      name: "up",
      matchers: [
        { label: "a", op: "=", value: "x" },
        { label: "b", op: "!=", value: "y" },
        { label: "c", op: "=~", value: "re.*" },
        { label: "d", op: "!~", value: "r\\d" },
      ],
    });
  });

  it("reads a bare name, empty braces, colons in names and a trailing comma", () => {
    expect(parseExpr("job:up:sum")).toMatchObject({
      kind: "vector",
      name: "job:up:sum",
      matchers: [],
    });
    expect(parseExpr("up{}")).toMatchObject({ kind: "vector", matchers: [] });
    expect(parseExpr('up{a="1",}')).toMatchObject({ matchers: [{ label: "a" }] });
  });

  it("unescapes label values", () => {
    const e = parseExpr('up{a="q\\"b\\\\n\\n"}') as Extract<Expr, { kind: "vector" }>;
    expect(e.matchers[0]?.value).toBe('q"b\\n\n');
  });

  it("reads rate and increase over ranges with compound durations", () => {
    expect(parseExpr("rate(x[5m])")).toMatchObject({
      kind: "call",
      fn: "rate",
      arg: { kind: "range", rangeMs: 300_000, bracketAt: 6, vector: { name: "x" } },
    });
    expect(parseExpr('increase(x{app="a"}[1h30m])')).toMatchObject({
      fn: "increase",
      arg: { rangeMs: 5_400_000 },
    });
    for (const [d, ms] of [
      ["250ms", 250],
      ["30s", 30_000],
      ["2d", 172_800_000],
      ["1w", 604_800_000],
      ["1y", 31_536_000_000],
    ] as const) {
      expect(parseExpr(`rate(x[${d}])`)).toMatchObject({ arg: { rangeMs: ms } });
    }
  });

  it("reads aggregations with by/without before or after the argument", () => {
    const before = parseExpr("sum by (app, code) (rate(x[5m]))");
    const after = parseExpr("sum(rate(x[5m])) by (app, code)");
    expect(before).toMatchObject({
      kind: "aggregate",
      op: "sum",
      grouping: { mode: "by", labels: ["app", "code"] },
    });
    expect(after).toMatchObject({
      kind: "aggregate",
      op: "sum",
      grouping: { mode: "by", labels: ["app", "code"] },
    });
    expect(parseExpr("max without (code) (x)")).toMatchObject({
      op: "max",
      grouping: { mode: "without", labels: ["code"] },
    });
    for (const op of ["avg", "min", "count"]) {
      expect(parseExpr(`${op}(x)`)).toMatchObject({ kind: "aggregate", op, grouping: null });
    }
    expect(parseExpr("sum by () (x)")).toMatchObject({ grouping: { mode: "by", labels: [] } });
  });

  it("reads comparisons with a number on either side, and bool", () => {
    for (const op of [">", ">=", "<", "<=", "==", "!="]) {
      expect(parseExpr(`x ${op} 0.05`)).toMatchObject({
        kind: "binary",
        op,
        bool: false,
        at: 2,
        right: { value: 0.05 },
      });
    }
    expect(parseExpr("0 < x")).toMatchObject({
      op: "<",
      left: { kind: "number" },
      right: { kind: "vector" },
    });
    expect(parseExpr("x > bool 1")).toMatchObject({ bool: true });
  });

  it("reads the issue's examples", () => {
    expect(parseExpr('http_error_ratio{app="api"} > 0.05')).toMatchObject({
      kind: "binary",
      op: ">",
      left: {
        kind: "vector",
        name: "http_error_ratio",
        matchers: [{ label: "app", op: "=", value: "api" }],
      },
      right: { kind: "number", value: 0.05 },
    });
    expect(parseExpr("sum by (app) (rate(baton_replica_restarts_total[5m])) > 0")).toMatchObject({
      op: ">",
      left: { kind: "aggregate", op: "sum", arg: { kind: "call", fn: "rate" } },
    });
  });

  it("gives arithmetic the usual precedence, left to right", () => {
    expect(parseExpr("a + b * c")).toMatchObject({ op: "+", right: { op: "*" } });
    expect(parseExpr("a - b - c")).toMatchObject({ op: "-", left: { op: "-" } });
    expect(parseExpr("(a + b) / c > 1")).toMatchObject({
      op: ">",
      left: { op: "/", left: { kind: "parens" } },
    });
  });

  it("reads numbers: decimals, exponents, hex, signs, Inf and NaN", () => {
    expect(parseExpr("x > 1e3")).toMatchObject({ right: { value: 1000 } });
    expect(parseExpr("x > .5")).toMatchObject({ right: { value: 0.5 } });
    expect(parseExpr("x > 0x10")).toMatchObject({ right: { value: 16 } });
    expect(parseExpr("x > -2")).toMatchObject({ right: { value: -2 } });
    expect(parseExpr("x < +Inf")).toMatchObject({ right: { value: Number.POSITIVE_INFINITY } });
    expect(parseExpr("x != NaN")).toMatchObject({ right: { value: Number.NaN } });
    expect(parseExpr("-x")).toMatchObject({ kind: "negate" });
  });

  it("skips whitespace across lines and # comments", () => {
    expect(parseExpr("sum by (app) (\n  rate(x[5m])  # restarts\n) > 0")).toMatchObject({
      op: ">",
    });
  });
});

describe("parseExpr: errors say where, what was expected, what was found, and what to do", () => {
  const cases: Array<{
    text: string;
    code: string;
    column: number;
    expected: RegExp;
    found: RegExp;
    hint: RegExp;
  }> = [
    {
      text: "x[5m] > 1",
      code: "expr.type",
      column: 2,
      expected: /instant selector/,
      found: /range selector x/,
      hint: /only allowed inside rate\(\.\.\.\) or increase\(\.\.\.\), e\.g\. rate\(x\[5m\]\)/,
    },
    {
      text: "sum(x[5m])",
      code: "expr.type",
      column: 6,
      expected: /instant selector/,
      found: /range/,
      hint: /only allowed inside rate/,
    },
    {
      text: "rat(x[5m])",
      code: "expr.syntax",
      column: 1,
      expected: /a function \(rate, increase/,
      found: /unknown function 'rat'/,
      hint: /did you mean rate\?/,
    },
    {
      text: "increse(x[5m])",
      code: "expr.syntax",
      column: 1,
      expected: /function/,
      found: /increse/,
      hint: /did you mean increase\?/,
    },
    {
      text: "sume(x)",
      code: "expr.syntax",
      column: 1,
      expected: /function/,
      found: /sume/,
      hint: /did you mean sum\?/,
    },
    {
      text: "irate(x[5m])",
      code: "expr.unsupported",
      column: 1,
      expected: /subset/,
      found: /irate/,
      hint: /irate\(\) is not in Baton's subset; .*rate, increase/,
    },
    {
      text: "histogram_quantile(q, x)",
      code: "expr.type",
      column: 20,
      expected: /a number such as 0\.99 as the first argument of histogram_quantile\(\)/,
      found: /the selector q/,
      hint: /histogram_quantile\(0\.99, sum by \(le\)/,
    },
    {
      text: "histogram_quantile(0.9)",
      code: "expr.syntax",
      column: 23,
      expected: /','/,
      found: /'\)'/,
      hint: /two arguments/,
    },
    {
      text: "histogram_quantile(0.9, 2) > 1",
      code: "expr.type",
      column: 25,
      expected: /histogram buckets/,
      found: /a number/,
      hint: /sum by \(le\)/,
    },
    {
      text: "rate(x)",
      code: "expr.type",
      column: 6,
      expected: /range selector such as x\[5m\]/,
      found: /the selector x/,
      hint: /rate\(x\[5m\]\)/,
    },
    {
      text: "rate(x[5m], 2)",
      code: "expr.syntax",
      column: 11,
      expected: /'\)'/,
      found: /','/,
      hint: /one argument/,
    },
    {
      text: 'x{a=="b"}',
      code: "expr.syntax",
      column: 4,
      expected: /label matcher/,
      found: /'=='/,
      hint: /single =/,
    },
    {
      text: "x{a=b}",
      code: "expr.syntax",
      column: 5,
      expected: /quoted label value/,
      found: /'b'/,
      hint: /a="b"/,
    },
    {
      text: 'x{a="b" c="d"}',
      code: "expr.syntax",
      column: 9,
      expected: /',' or '}'/,
      found: /'c'/,
      hint: /commas/,
    },
    {
      text: 'x{a="b}',
      code: "expr.syntax",
      column: 5,
      expected: /closing "/,
      found: /end of the expression/,
      hint: /close the string/,
    },
    {
      text: 'x{a="\\d"}',
      code: "expr.syntax",
      column: 6,
      expected: /escape/,
      found: /\\d/,
      hint: /backtick/,
    },
    {
      text: 'x{a=~"("}',
      code: "expr.regex",
      column: 6,
      expected: /valid regular expression/,
      found: /'\('/,
      hint: /escape/,
    },
    {
      text: '{app="x"}',
      code: "expr.syntax",
      column: 1,
      expected: /metric name/,
      found: /'\{'/,
      hint: /up\{app="api"\}/,
    },
    {
      text: 'x{__name__="y"}',
      code: "expr.unsupported",
      column: 3,
      expected: /subset/,
      found: /__name__/,
      hint: /metric name before the braces/,
    },
    {
      text: "1 > 2",
      code: "expr.type",
      column: 3,
      expected: /series on at least one side/,
      found: /number on both sides/,
      hint: /bool/,
    },
    {
      text: "x > 1 and y",
      code: "expr.unsupported",
      column: 7,
      expected: /subset/,
      found: /'and'/,
      hint: /separate alert/,
    },
    {
      text: "x > on(app) y",
      code: "expr.unsupported",
      column: 5,
      expected: /subset/,
      found: /'on'/,
      hint: /same labels/,
    },
    {
      text: "x offset 5m",
      code: "expr.unsupported",
      column: 3,
      expected: /subset/,
      found: /offset/,
      hint: /drop the offset/,
    },
    {
      text: "x % 2",
      code: "expr.unsupported",
      column: 3,
      expected: /subset/,
      found: /%/,
      hint: /\+ - \* or \//,
    },
    {
      text: "rate(x[5m:1m])",
      code: "expr.unsupported",
      column: 10,
      expected: /subset/,
      found: /:1m/,
      hint: /subqueries/,
    },
    {
      text: "rate(x[5q])",
      code: "expr.syntax",
      column: 8,
      expected: /duration/,
      found: /'5q'/,
      hint: /ms, s, m, h, d, w or y/,
    },
    {
      text: "rate(x[])",
      code: "expr.syntax",
      column: 8,
      expected: /duration/,
      found: /'\]'/,
      hint: /\[5m\]/,
    },
    {
      text: "rate(x[0s])",
      code: "expr.syntax",
      column: 8,
      expected: /above zero/,
      found: /0s/,
      hint: /\[5m\]/,
    },
    {
      text: "sum by (app (x)",
      code: "expr.syntax",
      column: 13,
      expected: /',' or '\)'/,
      found: /'\('/,
      hint: /commas/,
    },
    {
      text: "sum by (app) (x) by (code)",
      code: "expr.syntax",
      column: 26,
      expected: /one grouping/,
      found: /'\)'/,
      hint: /not both/,
    },
    {
      text: "sum by (app)",
      code: "expr.syntax",
      column: 13,
      expected: /'\(' after sum/,
      found: /end of the expression/,
      hint: /sum by \(app\) \(x\)/,
    },
    {
      text: "sum(2)",
      code: "expr.type",
      column: 5,
      expected: /series to sum/,
      found: /a number/,
      hint: /aggregates series/,
    },
    {
      text: "by (app) x",
      code: "expr.syntax",
      column: 1,
      expected: /metric name/,
      found: /'by'/,
      hint: /belongs to an aggregation/,
    },
    {
      text: "x +",
      code: "expr.syntax",
      column: 4,
      expected: /metric name, number or function/,
      found: /end of the expression/,
      hint: /complete it/,
    },
    {
      text: "",
      code: "expr.syntax",
      column: 1,
      expected: /metric name/,
      found: /end of the expression/,
      hint: /write an expression/,
    },
    {
      text: "x y",
      code: "expr.syntax",
      column: 3,
      expected: /an operator/,
      found: /'y'/,
      hint: /operator between them/,
    },
    {
      text: "(x > 1",
      code: "expr.syntax",
      column: 7,
      expected: /'\)'/,
      found: /end of the expression/,
      hint: /close the parenthesis/,
    },
    {
      text: "x > 1)",
      code: "expr.syntax",
      column: 6,
      expected: /end of the expression/,
      found: /'\)'/,
      hint: /remove this '\)'/,
    },
    {
      text: "x = 1",
      code: "expr.syntax",
      column: 3,
      expected: /comparison operator/,
      found: /'='/,
      hint: /==/,
    },
    {
      text: "x > $y",
      code: "expr.syntax",
      column: 5,
      expected: /metric name/,
      found: /'\$'/,
      hint: /remove the character/,
    },
    {
      text: "x + bool 1",
      code: "expr.syntax",
      column: 5,
      expected: /operand/,
      found: /bool/,
      hint: /only follows a comparison/,
    },
    {
      text: "(x)[5m]",
      code: "expr.syntax",
      column: 4,
      expected: /operator or the end/,
      found: /'\['/,
      hint: /only follow a metric selector/,
    },
  ];
  cases.push({
    text: 'x{app=~"(?i)api"}',
    code: "expr.regex",
    column: 8,
    expected: /valid regular expression/,
    found: /\(\?i\)api/,
    hint: /\(\?i\) .*not supported; .*\[Aa\]pi/,
  });
  cases.push(
    {
      text: "rate()",
      code: "expr.syntax",
      column: 6,
      expected: /metric name/,
      found: /'\)'/,
      hint: /missing before this '\)'/,
    },
    {
      text: "rate(x[5m]) by (app)",
      code: "expr.syntax",
      column: 13,
      expected: /operator or the end/,
      found: /'by'/,
      hint: /belongs to an aggregation/,
    },
    {
      text: "rate(x[5])",
      code: "expr.syntax",
      column: 8,
      expected: /duration/,
      found: /'5'/,
      hint: /whole number with a unit/,
    },
  );
  for (const c of cases) {
    it(`${JSON.stringify(c.text)} → ${c.code} at column ${c.column}`, () => {
      const e = parseError(c.text);
      expect({ code: e.code, column: e.column }).toEqual({ code: c.code, column: c.column });
      expect(e.expected).toMatch(c.expected);
      expect(e.found).toMatch(c.found);
      expect(e.hint).toMatch(c.hint);
      expect(e.message).toBe(`column ${c.column}: expected ${e.expected}, found ${e.found}`);
    });
  }

  it("counts lines and columns within a multi-line expression", () => {
    const e = parseError("sum by (app) (\n  rate(x)\n) > 0");
    expect({ line: e.line, column: e.column, offset: e.offset }).toEqual({
      line: 2,
      column: 8,
      offset: 22,
    });
    expect(e.message).toMatch(/^column 8 of line 2: /);
    expect(e.toJSON()).toMatchObject({ code: "expr.type", line: 2, column: 8 });
  });
});

describe("checkExpr", () => {
  const known = ["baton_replica_restarts_total", "baton_app_ready_replicas", "http_error_ratio"];

  it("accepts an alert over known metrics", () => {
    expect(
      checkExpr(parseExpr("sum by (app) (rate(baton_replica_restarts_total[5m])) > 0"), known),
    ).toEqual([]);
    expect(checkExpr(parseExpr("anything_at_all > 1"))).toEqual([]);
  });

  it("names an unknown metric with its column and the closest known one", () => {
    const problems = checkExpr(
      parseExpr('baton_app_ready_replica{app="a"} < 1 + rate(nope[5m])'),
      known,
    );
    expect(problems.map((p) => [p.code, p.column, p.found, p.hint])).toEqual([
      [
        "expr.unknown_metric",
        1,
        "'baton_app_ready_replica'",
        "did you mean baton_app_ready_replicas?",
      ],
      [
        "expr.unknown_metric",
        45,
        "'nope'",
        "run `baton metrics` to list the metric names Baton records",
      ],
    ]);
  });

  it("refuses an expression that yields a number: an alert fires per series", () => {
    const [problem, ...rest] = checkExpr(parseExpr("1 + 2 > bool 2"));
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({
      code: "expr.type",
      column: 1,
      expected: "an expression over series",
    });
  });
});
