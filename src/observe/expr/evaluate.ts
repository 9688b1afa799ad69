import { type Bucket, bucketQuantile } from "../../util/bucket-quantile.js";
import type { Labels, Sample, SeriesSource } from "../series.js";
import type {
  Aggregation,
  BinaryOp,
  Expr,
  FunctionCall,
  QuantileCall,
  VectorSelector,
} from "./ast.js";
import { isComparison } from "./ast.js";
import { extrapolatedIncrease, extrapolatedRate } from "./rate.js";

/** One element of a result: a label set (no metric name) and its value at the evaluation time. */
export interface VectorElement {
  readonly labels: Labels;
  readonly value: number;
}

export type InstantVector = VectorElement[];

/** What an expression evaluates to: series, or a plain number for `2 * 3`. */
type Value =
  | { readonly kind: "vector"; readonly elements: InstantVector }
  | { readonly kind: "number"; readonly value: number };

/**
 * Evaluates a parsed expression at `at` (ms since the epoch) over `source`. An instant
 * selector takes each series' newest sample in (at - lookbackMs, at]; a series with none is
 * stale and absent. A comparison keeps the elements for which it holds (an alert "fires"
 * for each label set left). A number result becomes one element with no labels.
 */
export function evaluate(
  expr: Expr,
  source: SeriesSource,
  at: number,
  lookbackMs = 5 * 60_000,
): InstantVector {
  const result = new Evaluator(source, at, lookbackMs).eval(expr);
  return result.kind === "vector" ? result.elements : [{ labels: {}, value: result.value }];
}

class Evaluator {
  constructor(
    private readonly source: SeriesSource,
    private readonly at: number,
    private readonly lookbackMs: number,
  ) {}

  eval(expr: Expr): Value {
    switch (expr.kind) {
      case "number":
        return { kind: "number", value: expr.value };
      case "parens":
        return this.eval(expr.inner);
      case "vector":
        return { kind: "vector", elements: this.instant(expr) };
      case "range":
        // parseExpr refuses a range outside rate()/increase(); a hand-built tree may not.
        throw new Error("a range selector can only be evaluated inside rate() or increase()");
      case "call":
        return { kind: "vector", elements: this.call(expr) };
      case "quantile":
        return { kind: "vector", elements: this.quantile(expr) };
      case "aggregate":
        return { kind: "vector", elements: this.aggregate(expr) };
      case "negate": {
        const value = this.eval(expr.arg);
        if (value.kind === "number") return { kind: "number", value: -value.value };
        return {
          kind: "vector",
          elements: value.elements.map((e) => ({ labels: e.labels, value: -e.value })),
        };
      }
      case "binary":
        return this.binary(expr);
    }
  }

  private instant(selector: VectorSelector): InstantVector {
    const from = this.at - this.lookbackMs;
    const elements: InstantVector = [];
    for (const series of this.source.select(selector, from, this.at)) {
      const newest = newestIn(series.samples, from, this.at);
      if (newest !== undefined) elements.push({ labels: series.labels, value: newest.value });
    }
    return elements;
  }

  private call(call: FunctionCall): InstantVector {
    const windowStart = this.at - call.arg.rangeMs;
    const compute = call.fn === "rate" ? extrapolatedRate : extrapolatedIncrease;
    const elements: InstantVector = [];
    for (const series of this.source.select(call.arg.vector, windowStart, this.at)) {
      // Left-open window (windowStart, at], as Prometheus 3 selects ranges.
      const inWindow = series.samples.filter((s) => s.at > windowStart && s.at <= this.at);
      const value = compute(inWindow, windowStart, this.at);
      if (value !== undefined) elements.push({ labels: series.labels, value });
    }
    return elements;
  }

  /** Groups the argument's series by every label but `le`; each group's buckets give one value. */
  private quantile(call: QuantileCall): InstantVector {
    const input = this.eval(call.arg);
    if (input.kind === "number") throw new Error("histogram_quantile() needs series, not a number");
    const groups = new Map<string, { labels: Labels; buckets: Bucket[] }>();
    for (const element of input.elements) {
      const { le, ...labels } = element.labels;
      if (le === undefined) continue;
      const upper = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
      if (le.trim() === "" || Number.isNaN(upper)) continue;
      const key = labelKey(labels);
      let group = groups.get(key);
      if (group === undefined) {
        group = { labels, buckets: [] };
        groups.set(key, group);
      }
      group.buckets.push({ upper, count: element.value });
    }
    return [...groups.values()].map((g) => ({
      labels: g.labels,
      value: bucketQuantile(call.phi, g.buckets),
    }));
  }

  private aggregate(agg: Aggregation): InstantVector {
    const input = this.eval(agg.arg);
    if (input.kind === "number") throw new Error(`${agg.op}() needs series, not a number`);
    const groups = new Map<string, { labels: Labels; values: number[] }>();
    for (const element of input.elements) {
      const labels = groupLabels(element.labels, agg.grouping);
      const key = labelKey(labels);
      let group = groups.get(key);
      if (group === undefined) {
        group = { labels, values: [] };
        groups.set(key, group);
      }
      group.values.push(element.value);
    }
    return [...groups.values()].map((g) => ({ labels: g.labels, value: reduce(agg.op, g.values) }));
  }

  private binary(expr: BinaryOp): Value {
    const left = this.eval(expr.left);
    const right = this.eval(expr.right);
    if (left.kind === "number" && right.kind === "number") {
      return { kind: "number", value: apply(expr, left.value, right.value) ?? 0 };
    }
    if (left.kind === "vector" && right.kind === "number") {
      return {
        kind: "vector",
        elements: mapVector(expr, left.elements, (v) => [v, right.value], "left"),
      };
    }
    if (left.kind === "number" && right.kind === "vector") {
      return {
        kind: "vector",
        elements: mapVector(expr, right.elements, (v) => [left.value, v], "right"),
      };
    }
    if (left.kind === "vector" && right.kind === "vector") {
      return { kind: "vector", elements: matchOneToOne(expr, left.elements, right.elements) };
    }
    throw new Error("unreachable: every pair of value kinds is handled above");
  }
}

/**
 * The operator applied to a pair: arithmetic gives its result; a comparison gives 1/0 with
 * `bool` and otherwise 1 when it holds, `undefined` (filtered out) when it doesn't.
 */
function apply(expr: BinaryOp, a: number, b: number): number | undefined {
  switch (expr.op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      return a / b;
  }
  const holds = compare(expr.op, a, b);
  if (expr.bool) return holds ? 1 : 0;
  return holds ? 1 : undefined;
}

function compare(op: BinaryOp["op"], a: number, b: number): boolean {
  switch (op) {
    case ">":
      return a > b;
    case ">=":
      return a >= b;
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case "==":
      return a === b;
    default:
      return a !== b;
  }
}

/** Two vectors: pairs on identical label sets; elements without a partner drop out. */
function matchOneToOne(expr: BinaryOp, left: InstantVector, right: InstantVector): InstantVector {
  const rightByKey = new Map<string, number>();
  for (const e of right) rightByKey.set(labelKey(e.labels), e.value);
  const filtering = isComparison(expr.op) && !expr.bool;
  const out: InstantVector = [];
  for (const e of left) {
    const partner = rightByKey.get(labelKey(e.labels));
    if (partner === undefined) continue;
    const value = apply(expr, e.value, partner);
    if (value !== undefined) out.push({ labels: e.labels, value: filtering ? e.value : value });
  }
  return out;
}

/** Vector against a number: a filtering comparison keeps the vector's own value, as in PromQL. */
function mapVector(
  expr: BinaryOp,
  elements: InstantVector,
  operands: (v: number) => [number, number],
  vectorSide: "left" | "right",
): InstantVector {
  const out: InstantVector = [];
  for (const e of elements) {
    const [a, b] = operands(e.value);
    const value = apply(expr, a, b);
    if (value === undefined) continue;
    const filtering = isComparison(expr.op) && !expr.bool;
    out.push({ labels: e.labels, value: filtering ? (vectorSide === "left" ? a : b) : value });
  }
  return out;
}

function reduce(op: Aggregation["op"], values: number[]): number {
  switch (op) {
    case "sum":
      return values.reduce((s, v) => s + v, 0);
    case "avg":
      return values.reduce((s, v) => s + v, 0) / values.length;
    case "count":
      return values.length;
    case "min":
      return extreme(values, (a, b) => a < b);
    case "max":
      return extreme(values, (a, b) => a > b);
  }
}

/** min/max that, like Prometheus, only returns NaN when every value is NaN. */
function extreme(values: number[], better: (a: number, b: number) => boolean): number {
  let best = Number.NaN;
  for (const v of values) {
    if (Number.isNaN(best) || better(v, best)) best = v;
  }
  return best;
}

function groupLabels(labels: Labels, grouping: Aggregation["grouping"]): Labels {
  if (grouping === null) return {};
  const out: Record<string, string> = {};
  if (grouping.mode === "by") {
    for (const name of grouping.labels) {
      const value = labels[name];
      if (value !== undefined && value !== "") out[name] = value;
    }
  } else {
    for (const [name, value] of Object.entries(labels)) {
      if (!grouping.labels.includes(name)) out[name] = value;
    }
  }
  return out;
}

/** A canonical key for a label set: sorted, and unambiguous whatever the values contain. */
export function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function newestIn(samples: readonly Sample[], from: number, to: number): Sample | undefined {
  for (let i = samples.length - 1; i >= 0; i--) {
    const s = samples[i] as Sample;
    if (s.at > to) continue;
    return s.at > from ? s : undefined;
  }
  return undefined;
}
