import type { AggregationOp, FunctionName } from "./ast.js";

/** The names Baton's subset knows, and the PromQL ones it deliberately leaves out. */
export const FUNCTIONS: readonly FunctionName[] = ["rate", "increase"];
export const AGGREGATIONS: readonly AggregationOp[] = ["sum", "avg", "min", "max", "count"];
export const QUANTILE_FUNCTION = "histogram_quantile";
/** Every name that may stand before `(`: for "did you mean" and the lists in messages. */
export const CALLABLE: readonly string[] = [...FUNCTIONS, QUANTILE_FUNCTION, ...AGGREGATIONS];

/** PromQL names an operator may reach for; they get "not in Baton's subset" rather than "unknown". */
export const PROMQL_ONLY = new Set([
  "irate",
  "delta",
  "idelta",
  "deriv",
  "resets",
  "changes",
  "avg_over_time",
  "min_over_time",
  "max_over_time",
  "sum_over_time",
  "count_over_time",
  "last_over_time",
  "quantile_over_time",
  "present_over_time",
  "predict_linear",
  "holt_winters",
  "abs",
  "absent",
  "absent_over_time",
  "ceil",
  "floor",
  "round",
  "clamp",
  "clamp_min",
  "clamp_max",
  "label_replace",
  "label_join",
  "time",
  "timestamp",
  "vector",
  "scalar",
  "sort",
  "sort_desc",
  "exp",
  "ln",
  "log2",
  "log10",
  "sqrt",
  "topk",
  "bottomk",
  "quantile",
  "stddev",
  "stdvar",
  "count_values",
  "group",
]);

/** The closest name within two edits, for "did you mean". */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(
        Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution),
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}
