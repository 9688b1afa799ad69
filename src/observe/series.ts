/**
 * The shape every part of observe/ agrees on: a series is a metric name plus labels, holding
 * samples in time order. The metrics store keeps them, the rule evaluator reads them through
 * `SeriesSource`, the Prometheus exposition renders the newest sample of each.
 */

import type { LabelMatcher, Labels } from "../api/metrics.js";

/** Labels and matchers travel in API answers (series, alerts, silences): they are the API's. */
export type { LabelMatcher, Labels };

/** One observation: milliseconds since the epoch and a value (NaN and ±Inf allowed). */
export interface Sample {
  readonly at: number;
  readonly value: number;
}

export interface Series {
  readonly name: string;
  readonly labels: Labels;
  /** Oldest first. */
  readonly samples: readonly Sample[];
}

/** What selects series: a metric name and matchers on its labels. */
export interface SeriesSelector {
  readonly name: string;
  readonly matchers: readonly LabelMatcher[];
}

/** Whatever answers selections over a time range, [from, to] inclusive, in ms. */
export interface SeriesSource {
  select(selector: SeriesSelector, from: number, to: number): readonly Series[];
}

/** Whether labels satisfy every matcher; an absent label reads as "". */
export function matchesAll(labels: Labels, matchers: readonly LabelMatcher[]): boolean {
  for (const m of matchers) {
    const actual = labels[m.label] ?? "";
    switch (m.op) {
      case "=":
        if (actual !== m.value) return false;
        break;
      case "!=":
        if (actual === m.value) return false;
        break;
      case "=~":
        if (!anchored(m.value).test(actual)) return false;
        break;
      case "!~":
        if (anchored(m.value).test(actual)) return false;
        break;
    }
  }
  return true;
}

const compiled = new Map<string, RegExp>();

function anchored(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (re === undefined) {
    re = new RegExp(`^(?:${pattern})$`);
    compiled.set(pattern, re);
  }
  return re;
}
