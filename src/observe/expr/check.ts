import type { Expr } from "./ast.js";
import { describeNode } from "./describe.js";
import { ExprError } from "./errors.js";
import { closest } from "./names.js";
import { textOf } from "./source-text.js";
import { checkTypes } from "./types.js";

/**
 * Checks a parsed expression for use as an alert: it must yield series (an alert fires per
 * label set), and, when the known metric names are given, every selector must name one.
 * Returns every problem found, in text order; empty when the expression is fine.
 */
export function checkExpr(expr: Expr, knownMetrics?: Iterable<string>): ExprError[] {
  const text = textOf(expr);
  const problems: ExprError[] = [];
  if (checkTypes(expr, text) === "number") {
    problems.push(
      new ExprError("expr.type", text, {
        offset: startOf(expr),
        expected: "an expression over series",
        found: describeNode(expr),
        hint: 'an alert fires per series; compare a metric with a number, e.g. baton_app_ready_replicas{app="api"} < 1',
      }),
    );
  }
  if (knownMetrics !== undefined) {
    const known = [...knownMetrics];
    const knownSet = new Set(known);
    for (const selector of selectorsOf(expr)) {
      if (knownSet.has(selector.name)) continue;
      const guess = closest(selector.name, known);
      problems.push(
        new ExprError("expr.unknown_metric", text, {
          offset: selector.at,
          expected: "a metric Baton records",
          found: `'${selector.name}'`,
          hint:
            guess !== undefined
              ? `did you mean ${guess}?`
              : "run `baton metrics` to list the metric names Baton records",
        }),
      );
    }
  }
  return problems.sort((a, b) => a.offset - b.offset);
}

/** Every instant selector in the expression, ranges included. */
export function selectorsOf(expr: Expr): Array<{ name: string; at: number }> {
  switch (expr.kind) {
    case "number":
      return [];
    case "vector":
      return [{ name: expr.name, at: expr.at }];
    case "range":
      return selectorsOf(expr.vector);
    case "call":
    case "quantile":
      return selectorsOf(expr.arg);
    case "aggregate":
    case "negate":
      return selectorsOf(expr.arg);
    case "parens":
      return selectorsOf(expr.inner);
    case "binary":
      return [...selectorsOf(expr.left), ...selectorsOf(expr.right)];
  }
}

/** Where an expression's text begins (a binary node's own offset is its operator's). */
function startOf(expr: Expr): number {
  return expr.kind === "binary" ? startOf(expr.left) : expr.at;
}
