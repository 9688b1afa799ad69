import type { Expr } from "./ast.js";

/** How an error message names a piece of an expression. */
export function describeNode(e: Expr): string {
  switch (e.kind) {
    case "number":
      return `the number ${e.value}`;
    case "vector":
      return `the selector ${e.name}`;
    case "range":
      return `the range selector ${e.vector.name}[...]`;
    case "call":
      return `${e.fn}(...)`;
    case "quantile":
      return "histogram_quantile(...)";
    case "aggregate":
      return `${e.op}(...)`;
    case "binary":
      return `an expression with ${e.op}`;
    case "negate":
      return "a negated expression";
    case "parens":
      return describeNode(e.inner);
  }
}
