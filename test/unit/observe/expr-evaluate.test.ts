import { describe, expect, it } from "vitest";
import { evaluate, type InstantVector, parseExpr } from "../../../src/observe/expr/index.js";
import { every, MemorySeriesSource } from "../../helpers/memory-series-source.js";

const S = 1_000;
const M = 60 * S;

function run(
  source: MemorySeriesSource,
  text: string,
  at: number,
  lookbackMs?: number,
): InstantVector {
  return evaluate(parseExpr(text), source, at, lookbackMs);
}

/** Results in a stable order, values rounded to 9 digits so float noise doesn't matter. */
function sorted(v: InstantVector): Array<[string, number]> {
  return v
    .map((e): [string, number] => [JSON.stringify(e.labels), Number(e.value.toPrecision(9))])
    .sort(([a], [b]) => (a < b ? -1 : 1));
}

describe("instant selectors", () => {
  const source = new MemorySeriesSource()
    .add("up", { app: "api" }, every(15 * S, [1, 1, 0]))
    .add("up", { app: "web" }, every(15 * S, [1, 1, 1]))
    .add("up", { app: "db", tier: "data" }, every(15 * S, [7]));

  it("returns each matching series' newest sample, without the metric name", () => {
    expect(sorted(run(source, "up", 30 * S))).toEqual([
      ['{"app":"api"}', 0],
      ['{"app":"db","tier":"data"}', 7],
      ['{"app":"web"}', 1],
    ]);
  });

  it("applies =, !=, =~ and !~ (regexes anchored; an absent label is empty)", () => {
    expect(sorted(run(source, 'up{app="api"}', 30 * S))).toEqual([['{"app":"api"}', 0]]);
    expect(sorted(run(source, 'up{app!="api"}', 30 * S)).map(([l]) => l)).toEqual([
      '{"app":"db","tier":"data"}',
      '{"app":"web"}',
    ]);
    expect(sorted(run(source, 'up{app=~"a|w"}', 30 * S))).toEqual([]);
    expect(sorted(run(source, 'up{app=~"a.*|w.*"}', 30 * S)).length).toBe(2);
    expect(sorted(run(source, 'up{tier!~"d.*"}', 30 * S)).length).toBe(2);
    expect(sorted(run(source, 'up{tier=""}', 30 * S)).length).toBe(2);
  });

  it("uses the sample at or before the evaluation time, never a later one", () => {
    expect(sorted(run(source, 'up{app="api"}', 20 * S))).toEqual([['{"app":"api"}', 1]]);
    expect(run(source, 'up{app="api"}', -1)).toEqual([]);
  });

  it("drops a series whose newest sample is older than the lookback (stale)", () => {
    // db's only sample is at 0: present within 5 minutes, gone at exactly 5 minutes (left-open).
    expect(sorted(run(source, 'up{app="db"}', 5 * M - 1))).toEqual([
      ['{"app":"db","tier":"data"}', 7],
    ]);
    expect(run(source, 'up{app="db"}', 5 * M)).toEqual([]);
    expect(run(source, 'up{app="db"}', 10 * S, 10 * S)).toEqual([]);
    expect(run(source, 'up{app="db"}', 10 * S, 11 * S).length).toBe(1);
  });

  it("returns nothing for a metric no series has", () => {
    expect(run(source, "nope > 0", 30 * S)).toEqual([]);
  });
});

describe("rate and increase", () => {
  it("is exact for a counter rising 1/s sampled every 10 s across the whole window", () => {
    const values = Array.from({ length: 30 }, (_, i) => 10 * (i + 1));
    const source = new MemorySeriesSource().add("c_total", {}, every(10 * S, values, 10 * S));
    expect(sorted(run(source, "rate(c_total[5m])", 300 * S))).toEqual([["{}", 1]]);
    expect(sorted(run(source, "increase(c_total[5m])", 300 * S))).toEqual([["{}", 300]]);
  });

  it("adds back the value before a reset", () => {
    // 10..100 every 15 s, then the process restarts: 5, 15, ..., 95. Seen: 90 + 5 + 90 = 185,
    // over samples spanning 285 s; the first lies 15 s (one interval) after the window start,
    // so the change is extrapolated to the full 300 s: 185 × 300/285.
    const values = [
      ...Array.from({ length: 10 }, (_, i) => 10 * (i + 1)),
      ...Array.from({ length: 10 }, (_, i) => 5 + 10 * i),
    ];
    const source = new MemorySeriesSource().add(
      "restarts_total",
      { app: "a" },
      every(15 * S, values, 15 * S),
    );
    const increase = run(source, "increase(restarts_total[5m])", 300 * S);
    expect(sorted(increase)).toEqual([['{"app":"a"}', Number(((185 * 300) / 285).toPrecision(9))]]);
    const rate = run(source, "rate(restarts_total[5m])", 300 * S);
    expect(rate[0]?.value).toBeCloseTo(185 / 285, 12);
  });

  it("extrapolates half an interval when the series starts inside the window", () => {
    // Samples 100..200 from 200 s to 300 s every 10 s: change 100 over 100 s; the start is 200 s
    // away (beyond 1.1 intervals), so only 5 s are added: 100 × 105/100.
    const values = Array.from({ length: 11 }, (_, i) => 100 + 10 * i);
    const source = new MemorySeriesSource().add("c_total", {}, every(10 * S, values, 200 * S));
    expect(sorted(run(source, "increase(c_total[5m])", 300 * S))).toEqual([["{}", 105]]);
  });

  it("does not extrapolate to before the counter was zero", () => {
    const values = Array.from({ length: 11 }, (_, i) => 10 * i);
    const source = new MemorySeriesSource().add("c_total", {}, every(10 * S, values, 200 * S));
    expect(sorted(run(source, "increase(c_total[5m])", 300 * S))).toEqual([["{}", 100]]);
  });

  it("gives nothing for a series with fewer than two samples in the window", () => {
    const source = new MemorySeriesSource()
      .add("c_total", { app: "one" }, [[290 * S, 4]])
      .add("c_total", { app: "old" }, [
        [0, 1],
        [100 * S, 3],
        [290 * S, 5],
      ]);
    // The window is (at - 5m, at]: only the 290 s sample of "old" is inside at 450 s. At 300 s
    // it holds 3 and 5 (the sample at 0 is on the open edge): +2 over 190 s, both edges within
    // 1.1 intervals, so extrapolated to the whole 300 s.
    expect(run(source, "rate(c_total[5m])", 450 * S)).toEqual([]);
    expect(sorted(run(source, "increase(c_total[5m])", 300 * S))).toEqual([
      ['{"app":"old"}', Number(((2 * 300) / 190).toPrecision(9))],
    ]);
  });
});

describe("aggregations", () => {
  const source = new MemorySeriesSource()
    .add("req", { app: "api", code: "200" }, [[0, 10]])
    .add("req", { app: "api", code: "500" }, [[0, 2]])
    .add("req", { app: "web", code: "200" }, [[0, 6]])
    .add("req", { app: "web", code: "404" }, [[0, 1]])
    .add("req", { code: "200" }, [[0, 3]]);

  it("sum, avg, min, max and count over everything", () => {
    expect(sorted(run(source, "sum(req)", 0))).toEqual([["{}", 22]]);
    expect(sorted(run(source, "avg(req)", 0))).toEqual([["{}", 4.4]]);
    expect(sorted(run(source, "min(req)", 0))).toEqual([["{}", 1]]);
    expect(sorted(run(source, "max(req)", 0))).toEqual([["{}", 10]]);
    expect(sorted(run(source, "count(req)", 0))).toEqual([["{}", 5]]);
  });

  it("by keeps the listed labels (a series without them forms the empty group)", () => {
    expect(sorted(run(source, "sum by (app) (req)", 0))).toEqual([
      ['{"app":"api"}', 12],
      ['{"app":"web"}', 7],
      ["{}", 3],
    ]);
    expect(sorted(run(source, "max(req) by (app, code)", 0)).length).toBe(5);
  });

  it("without drops the listed labels", () => {
    expect(sorted(run(source, "count without (code) (req)", 0))).toEqual([
      ['{"app":"api"}', 2],
      ['{"app":"web"}', 2],
      ["{}", 1],
    ]);
  });

  it("of nothing is nothing (an alert on it does not fire)", () => {
    expect(run(source, "sum(nope)", 0)).toEqual([]);
  });
});

describe("histogram_quantile", () => {
  // 10 observations: 4 at most 0.1 s, 8 at most 0.5 s, all 10 at most 1 s.
  const source = new MemorySeriesSource()
    .add("d_bucket", { app: "api", le: "0.1" }, [[0, 4]])
    .add("d_bucket", { app: "api", le: "0.5" }, [[0, 8]])
    .add("d_bucket", { app: "api", le: "1" }, [[0, 10]])
    .add("d_bucket", { app: "api", le: "+Inf" }, [[0, 10]])
    .add("d_bucket", { app: "web", le: "0.1" }, [[0, 0]])
    .add("d_bucket", { app: "web", le: "+Inf" }, [[0, 0]])
    .add("d_sum", { app: "api" }, [[0, 3]]);

  it("interpolates within the bucket the rank falls in, per group of le buckets", () => {
    // rank 5 of 10: one of the 4 in (0.1, 0.5] → 0.1 + 0.4 × 1/4.
    expect(sorted(run(source, 'histogram_quantile(0.5, d_bucket{app="api"})', 0))).toEqual([
      ['{"app":"api"}', 0.2],
    ]);
    // rank 2 of 10, in the first bucket, which starts at 0.
    expect(run(source, 'histogram_quantile(0.2, d_bucket{app="api"})', 0)[0]?.value).toBeCloseTo(
      0.05,
    );
  });

  it("is NaN with nothing observed, ±Inf for φ outside [0, 1], and skips series without le", () => {
    const all = sorted(run(source, "histogram_quantile(0.9, d_bucket)", 0));
    expect(all[0]).toEqual(['{"app":"api"}', 0.75]);
    expect(all[1]?.[0]).toBe('{"app":"web"}');
    expect(all[1]?.[1]).toBeNaN();
    expect(run(source, "histogram_quantile(0.5, d_sum)", 0)).toEqual([]);
    expect(run(source, 'histogram_quantile(2, d_bucket{app="api"})', 0)[0]?.value).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  it("compares like any vector: an alert on a slow p90 (0.5 + 0.5 × 1/2)", () => {
    expect(sorted(run(source, "histogram_quantile(0.9, d_bucket) > 0.5", 0))).toEqual([
      ['{"app":"api"}', 0.75],
    ]);
  });
});

describe("comparisons and arithmetic", () => {
  const source = new MemorySeriesSource()
    .add("http_error_ratio", { app: "api" }, [[0, 0.08]])
    .add("http_error_ratio", { app: "web" }, [[0, 0.01]])
    .add("errors_total", { app: "api" }, [[0, 8]])
    .add("errors_total", { app: "web" }, [[0, 1]])
    .add("requests_total", { app: "api" }, [[0, 100]])
    .add("requests_total", { app: "db" }, [[0, 50]]);

  it("filters to the elements for which the comparison holds, keeping their values", () => {
    expect(sorted(run(source, "http_error_ratio > 0.05", 0))).toEqual([['{"app":"api"}', 0.08]]);
    expect(sorted(run(source, 'http_error_ratio{app="api"} > 0.05', 0))).toEqual([
      ['{"app":"api"}', 0.08],
    ]);
    expect(sorted(run(source, 'http_error_ratio{app="web"} > 0.05', 0))).toEqual([]);
    expect(sorted(run(source, "http_error_ratio <= 0.01", 0))).toEqual([['{"app":"web"}', 0.01]]);
    expect(sorted(run(source, "http_error_ratio == 0.01", 0))).toEqual([['{"app":"web"}', 0.01]]);
    expect(sorted(run(source, "http_error_ratio != 0.01", 0))).toEqual([['{"app":"api"}', 0.08]]);
    expect(sorted(run(source, "http_error_ratio >= 0.08", 0))).toEqual([['{"app":"api"}', 0.08]]);
    expect(sorted(run(source, "http_error_ratio < 0.02", 0))).toEqual([['{"app":"web"}', 0.01]]);
  });

  it("with the number on the left, keeps the series' values", () => {
    expect(sorted(run(source, "0.05 < http_error_ratio", 0))).toEqual([['{"app":"api"}', 0.08]]);
  });

  it("with bool, yields 0 or 1 for every element", () => {
    expect(sorted(run(source, "http_error_ratio > bool 0.05", 0))).toEqual([
      ['{"app":"api"}', 1],
      ['{"app":"web"}', 0],
    ]);
  });

  it("does arithmetic with numbers and between series on identical labels", () => {
    expect(sorted(run(source, "errors_total * 2 - 1", 0))).toEqual([
      ['{"app":"api"}', 15],
      ['{"app":"web"}', 1],
    ]);
    // Only api has both series; web and db have no partner and drop out.
    expect(sorted(run(source, "errors_total / requests_total > 0.05", 0))).toEqual([
      ['{"app":"api"}', 0.08],
    ]);
    expect(sorted(run(source, "-errors_total", 0))).toEqual([
      ['{"app":"api"}', -8],
      ['{"app":"web"}', -1],
    ]);
  });

  it("compares two series element by element, keeping the left value", () => {
    expect(sorted(run(source, "requests_total > errors_total", 0))).toEqual([
      ['{"app":"api"}', 100],
    ]);
  });

  it("turns a plain number into one element without labels", () => {
    expect(run(source, "2 * 3", 0)).toEqual([{ labels: {}, value: 6 }]);
  });

  it("evaluates the issue's restart alert: fires per app that restarted in 5 minutes", () => {
    const restarts = new MemorySeriesSource()
      .add(
        "baton_replica_restarts_total",
        { app: "api", replica: "api-1" },
        every(15 * S, [0, 0, 1, 1, 2], 240 * S),
      )
      .add(
        "baton_replica_restarts_total",
        { app: "api", replica: "api-2" },
        every(15 * S, [0, 0, 0, 0, 0], 240 * S),
      )
      .add(
        "baton_replica_restarts_total",
        { app: "web", replica: "web-1" },
        every(15 * S, [3, 3, 3, 3, 3], 240 * S),
      );
    const firing = run(
      restarts,
      "sum by (app) (rate(baton_replica_restarts_total[5m])) > 0",
      300 * S,
    );
    expect(firing.map((e) => e.labels)).toEqual([{ app: "api" }]);
    expect(firing[0]?.value).toBeGreaterThan(0);
  });
});
