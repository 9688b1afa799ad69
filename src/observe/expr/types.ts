import type { Expr } from "./ast.js";
import { isComparison } from "./ast.js";
import { ExprError } from "./errors.js";

export type ValueType = "number" | "vector";

/**
 * What an expression yields, refusing the combinations PromQL refuses: a range anywhere but
 * as a function's argument, aggregating a number, comparing two numbers without `bool`.
 */
export function checkTypes(expr: Expr, text: string): ValueType {
  switch (expr.kind) {
    case "number":
      return "number";
    case "vector":
    case "call":
      return "vector";
    case "range":
      throw new ExprError("expr.type", text, {
        offset: expr.bracketAt,
        expected: "an instant selector (no [range]) here",
        found: `the range selector ${expr.vector.name}[...]`,
        hint: `a range selector is only allowed inside rate(...) or increase(...), e.g. rate(${expr.vector.name}[5m])`,
      });
    case "parens":
      return checkTypes(expr.inner, text);
    case "quantile":
      if (checkTypes(expr.arg, text) === "number") {
        throw new ExprError("expr.type", text, {
          offset: expr.arg.at,
          expected: "histogram buckets (series with an `le` label)",
          found: "a number",
          hint: "histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))",
        });
      }
      return "vector";
    case "negate":
      return checkTypes(expr.arg, text);
    case "aggregate": {
      if (checkTypes(expr.arg, text) === "number") {
        throw new ExprError("expr.type", text, {
          offset: expr.arg.at,
          expected: `series to ${expr.op}`,
          found: "a number",
          hint: `${expr.op}() aggregates series, e.g. ${expr.op} by (app) (x)`,
        });
      }
      return "vector";
    }
    case "binary": {
      const left = checkTypes(expr.left, text);
      const right = checkTypes(expr.right, text);
      if (left === "number" && right === "number") {
        if (isComparison(expr.op) && !expr.bool) {
          throw new ExprError("expr.type", text, {
            offset: expr.at,
            expected: "series on at least one side of the comparison",
            found: "a number on both sides",
            hint: `compare a selector with the number, e.g. x ${expr.op} 1 (or write ${expr.op} bool for 0/1)`,
          });
        }
        return "number";
      }
      return "vector";
    }
  }
}
