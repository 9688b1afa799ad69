import type { LabelMatcher } from "../series.js";

/**
 * The parsed form of an alert expression. Every node keeps `at`, the 0-based offset of its
 * first character in the expression text, so checks after parsing can still point at it.
 */
export type Expr =
  | NumberLiteral
  | VectorSelector
  | RangeSelector
  | FunctionCall
  | QuantileCall
  | Aggregation
  | BinaryOp
  | UnaryMinus
  | Parens;

export interface NumberLiteral {
  readonly kind: "number";
  readonly at: number;
  readonly value: number;
}

/** `name{a="x"}` — the newest sample of each matching series within the lookback. */
export interface VectorSelector {
  readonly kind: "vector";
  readonly at: number;
  readonly name: string;
  readonly matchers: readonly LabelMatcher[];
}

/** `name{...}[5m]` — every sample of each matching series in the window; only a function's argument. */
export interface RangeSelector {
  readonly kind: "range";
  readonly at: number;
  readonly vector: VectorSelector;
  readonly rangeMs: number;
  /** Offset of the `[`, where a misplaced range is reported. */
  readonly bracketAt: number;
}

export type FunctionName = "rate" | "increase";

export interface FunctionCall {
  readonly kind: "call";
  readonly at: number;
  readonly fn: FunctionName;
  readonly arg: RangeSelector;
}

/** `histogram_quantile(0.99, x)` — the φ-quantile of each group of `le` buckets in x. */
export interface QuantileCall {
  readonly kind: "quantile";
  readonly at: number;
  readonly phi: number;
  readonly arg: Expr;
}

export type AggregationOp = "sum" | "avg" | "min" | "max" | "count";

export interface Aggregation {
  readonly kind: "aggregate";
  readonly at: number;
  readonly op: AggregationOp;
  /** `by` keeps only the listed labels, `without` drops them; absent = one group of everything. */
  readonly grouping: { readonly mode: "by" | "without"; readonly labels: readonly string[] } | null;
  readonly arg: Expr;
}

export type ComparisonOp = ">" | ">=" | "<" | "<=" | "==" | "!=";
export type ArithmeticOp = "+" | "-" | "*" | "/";

export interface BinaryOp {
  readonly kind: "binary";
  /** Offset of the operator, where a mismatch between the sides is reported. */
  readonly at: number;
  readonly op: ComparisonOp | ArithmeticOp;
  /** `> bool 0` yields 0/1 per element instead of filtering. */
  readonly bool: boolean;
  readonly left: Expr;
  readonly right: Expr;
}

export interface UnaryMinus {
  readonly kind: "negate";
  readonly at: number;
  readonly arg: Expr;
}

export interface Parens {
  readonly kind: "parens";
  readonly at: number;
  readonly inner: Expr;
}

export const COMPARISON_OPS: readonly ComparisonOp[] = [">", ">=", "<", "<=", "==", "!="];

export function isComparison(op: BinaryOp["op"]): op is ComparisonOp {
  return (COMPARISON_OPS as readonly string[]).includes(op);
}
