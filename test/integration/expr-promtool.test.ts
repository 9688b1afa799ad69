import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { evaluate, parseExpr } from "../../src/observe/expr/index.js";
import type { Labels } from "../../src/observe/series.js";
import { MemorySeriesSource } from "../helpers/memory-series-source.js";
import { promtool } from "../helpers/prometheus.js";

/**
 * The evaluator against the real thing: the same input series go into our in-memory source
 * and into `promtool test rules`, whose expected samples are what OUR evaluator computed —
 * promtool fails the run wherever real Prometheus disagrees. Evaluation times sit 7 s past a
 * sample, so no sample lies on a window edge (Prometheus 2 closes ranges on the left, 3 and we
 * leave them open), and no series starts inside a window with a value within a sample interval's
 * worth of zero (Prometheus before 2.51 capped that extrapolation differently). Both sides
 * are rounded to 1e-9 with PromQL's own round(), since promtool 2.42 compares floats exactly
 * and summing in another order may differ in the last bit.
 */

const INTERVAL_S = 15;
const SAMPLES = 50; // 0 s .. 735 s

interface InputSeries {
  readonly name: string;
  readonly labels: Labels;
  /** One per interval; null = no sample. */
  readonly values: ReadonlyArray<number | null>;
}

const counter = (start: number, step: number, resetsAt: readonly number[] = []) => {
  const values: number[] = [];
  let v = start;
  for (let i = 0; i < SAMPLES; i++) {
    if (resetsAt.includes(i)) v = i % 3;
    values.push(v);
    v += step + (i % 4);
  }
  return values;
};

const series: InputSeries[] = [
  { name: "restarts_total", labels: { app: "api", replica: "1" }, values: counter(0, 1, [17, 33]) },
  { name: "restarts_total", labels: { app: "api", replica: "2" }, values: counter(40, 0) },
  { name: "restarts_total", labels: { app: "web", replica: "1" }, values: counter(30, 2, [25]) },
  {
    name: "restarts_total",
    labels: { app: "late", replica: "1" },
    values: Array.from({ length: SAMPLES }, (_, i) => (i < 30 ? null : (i - 30) * 5 + 7)),
  },
  {
    name: "error_ratio",
    labels: { app: "api" },
    values: Array.from({ length: SAMPLES }, (_, i) => ((i * 37) % 11) / 100),
  },
  {
    name: "error_ratio",
    labels: { app: "gone" },
    values: Array.from({ length: SAMPLES }, (_, i) => (i < 10 ? 0.2 : null)),
  },
  { name: "requests_total", labels: { app: "api" }, values: counter(100, 20) },
  { name: "errors_total", labels: { app: "api" }, values: counter(50, 1) },
  { name: "errors_total", labels: { app: "web" }, values: counter(80, 3) },
  ...histogram("api", [3, 2, 2, 1, 1]),
  ...histogram("web", [0, 1, 4, 4, 2]),
];

/** Cumulative buckets of a latency histogram: `shares` are each bucket's own new observations. */
function histogram(app: string, shares: readonly number[]): InputSeries[] {
  const bounds = ["0.05", "0.1", "0.25", "1", "+Inf"];
  return bounds.map((le, j) => {
    const perSample = shares.slice(0, j + 1).reduce((a, b) => a + b, 0);
    // Far from zero at the start, like the counters above (see the note on extrapolation).
    let v = 500 + 50 * j;
    const values = Array.from({ length: SAMPLES }, (_, i) => {
      v += perSample + (i % 3) * (j + 1);
      return v;
    });
    return { name: "latency_bucket", labels: { app, le }, values };
  });
}

const ROUND_TO = 1e-9;

const cases: Array<{ readonly expr: string }> = [
  { expr: "rate(restarts_total[5m])" },
  { expr: "increase(restarts_total[5m])" },
  { expr: "increase(restarts_total[1m])" },
  { expr: "rate(restarts_total[10m])" },
  { expr: 'increase(restarts_total{app=~"a.*|web", replica!="2"}[3m])' },
  { expr: "sum by (app) (rate(restarts_total[5m]))" },
  { expr: "sum(rate(restarts_total[5m])) without (replica)" },
  { expr: "sum by (app) (rate(restarts_total[5m])) > 0.05" },
  { expr: "avg by (app) (increase(restarts_total[2m]))" },
  { expr: "max(increase(restarts_total[2m]))" },
  { expr: "min by (app) (increase(restarts_total[2m]))" },
  { expr: "count by (app) (restarts_total)" },
  { expr: "error_ratio > 0.05" },
  { expr: 'error_ratio{app!="web"} <= 0.05' },
  { expr: "error_ratio > bool 0.05" },
  { expr: "0.05 < error_ratio" },
  { expr: "error_ratio" },
  { expr: "rate(errors_total[5m]) / rate(requests_total[5m])" },
  {
    expr: "sum by (app) (rate(errors_total[5m])) / sum by (app) (rate(requests_total[5m])) > 0.01",
  },
  { expr: "-increase(errors_total[5m]) * 2 + 1" },
  { expr: "histogram_quantile(0.9, rate(latency_bucket[5m]))" },
  { expr: "histogram_quantile(0.5, sum by (le) (rate(latency_bucket[5m])))" },
  { expr: "histogram_quantile(0.99, sum by (app, le) (increase(latency_bucket[2m]))) > 0.2" },
  { expr: 'histogram_quantile(1, rate(latency_bucket{app="web"}[1m]))' },
  { expr: "histogram_quantile(0.25, latency_bucket)" },
];

const evalTimesS = [37, 127, 307, 367, 487, 607, 727];

describe("the evaluator agrees with Prometheus (promtool test rules)", () => {
  const dir = mkdtempSync(join(tmpdir(), "baton-expr-promtool-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`on ${cases.length} expressions at ${evalTimesS.length} times each`, async () => {
    const source = new MemorySeriesSource();
    for (const s of series) {
      const samples: Array<readonly [number, number]> = [];
      s.values.forEach((v, i) => {
        if (v !== null) samples.push([i * INTERVAL_S * 1000, v]);
      });
      source.add(s.name, s.labels, samples);
    }

    const tests: string[] = [];
    let nonEmpty = 0;
    for (const c of cases) {
      for (const t of evalTimesS) {
        const result = evaluate(parseExpr(c.expr), source, t * 1000);
        if (result.length > 0) nonEmpty++;
        // round() also drops the metric name, which Prometheus keeps on filtered selectors.
        tests.push(`      - expr: ${JSON.stringify(`round(${c.expr}, ${ROUND_TO})`)}`);
        tests.push(`        eval_time: ${t}s`);
        if (result.length === 0) {
          tests.push("        exp_samples: []");
          continue;
        }
        tests.push("        exp_samples:");
        for (const e of result) {
          tests.push(`          - labels: ${JSON.stringify(promLabels(undefined, e.labels))}`);
          tests.push(`            value: ${formatValue(roundLikePromQL(e.value))}`);
        }
      }
    }
    // Most cases must say something, or the comparison would prove little.
    expect(nonEmpty).toBeGreaterThan((cases.length * evalTimesS.length) / 2);

    const file = join(dir, "expr.test.yml");
    writeFileSync(
      file,
      [
        "rule_files: []",
        "evaluation_interval: 15s",
        "tests:",
        `  - interval: ${INTERVAL_S}s`,
        "    input_series:",
        ...series.flatMap((s) => [
          `      - series: ${JSON.stringify(promLabels(s.name, s.labels))}`,
          `        values: ${JSON.stringify(s.values.map((v) => (v === null ? "_" : formatValue(v))).join(" "))}`,
        ]),
        "    promql_expr_test:",
        ...tests,
        "",
      ].join("\n"),
    );
    const result = await promtool(["test", "rules", file]);
    expect(result.output).toContain("SUCCESS");
    expect(result.code).toBe(0);
  });
});

function promLabels(name: string | undefined, labels: Labels): string {
  const body = Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ");
  return `${name ?? ""}{${body}}`;
}

/** PromQL's round(v, to): floor(v / to + 0.5) * to, written as Go writes it. */
function roundLikePromQL(v: number): number {
  const inverse = 1 / ROUND_TO;
  return Math.floor(v * inverse + 0.5) / inverse;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  return String(v);
}
