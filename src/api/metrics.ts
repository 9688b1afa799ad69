/** `GET /api/v1/metrics` (`baton metrics`, `baton top`) and `GET /api/v1/query` (`baton query`). */

/** Label name → value; `__name__` is never among them (the name is its own field). */
export type Labels = Readonly<Record<string, string>>;

/** A label matcher as PromQL writes it: `=`, `!=`, `=~`, `!~` (regexes are fully anchored). */
export interface LabelMatcher {
  readonly label: string;
  readonly op: "=" | "!=" | "=~" | "!~";
  readonly value: string;
}

/** A metric as it was declared: `gauge` or `counter`, its help and unit ("" when none). */
export interface MetricDeclaration {
  readonly name: string;
  readonly kind: string;
  readonly help: string;
  readonly unit: string;
}

/** `GET /api/v1/metrics` without `name`: every declared metric. */
export interface MetricsListAnswer {
  readonly metrics: readonly MetricDeclaration[];
}

/**
 * `GET /api/v1/metrics?name=N`: one metric's series over `since` (1h unless said), those whose
 * labels pass every `match` (`app=api`, `code=~5..`), the last sample of each `step` when given.
 */
export interface MetricQuery {
  readonly name: string;
  readonly match?: readonly string[];
  /** A duration: `30s`, `15m`, `1h`, `1500ms`. */
  readonly since?: string;
  readonly step?: string;
}

export interface MetricsSeriesJson {
  readonly labels: Labels;
  /** [ms since the epoch, value], oldest first. */
  readonly samples: readonly (readonly [number, number])[];
}

export interface MetricsAnswer extends MetricDeclaration {
  readonly from: number;
  readonly to: number;
  readonly step: number | null;
  readonly series: readonly MetricsSeriesJson[];
}

/** `GET /api/v1/query?expr=E&at=MS`: an alert expression evaluated at one instant (now unless `at`). */
export interface QueryRequest {
  readonly expr: string;
  readonly at?: number;
}

/** A value JSON can carry: NaN and the infinities as Prometheus writes them. */
export type QueryValue = number | "NaN" | "+Inf" | "-Inf";

export interface QueryAnswer {
  readonly expr: string;
  readonly at: number;
  readonly result: readonly { labels: Labels; value: QueryValue }[];
}
