import { describe, expect, it } from "vitest";
import {
  ExpositionError,
  escapeLabelValue,
  formatNumber,
  type MetricFamily,
  renderExposition,
} from "../../../src/observe/exposition.js";

function render(...families: MetricFamily[]): string {
  return renderExposition(families);
}

function refusal(...families: MetricFamily[]): string {
  try {
    renderExposition(families);
  } catch (error) {
    if (error instanceof ExpositionError) return error.message;
    throw error;
  }
  throw new Error("expected the families to be refused");
}

describe("renderExposition", () => {
  it("writes HELP, TYPE and one line per sample, labels sorted by name", () => {
    expect(
      render({
        name: "baton_http_requests_total",
        help: "Requests answered.",
        type: "counter",
        samples: [
          { labels: { code: "200", app: "api" }, value: 5 },
          { labels: {}, value: 0 },
        ],
      }),
    ).toBe(
      [
        "# HELP baton_http_requests_total Requests answered.",
        "# TYPE baton_http_requests_total counter",
        'baton_http_requests_total{app="api",code="200"} 5',
        "baton_http_requests_total 0",
        "",
      ].join("\n"),
    );
  });

  it("escapes backslash, double quote and newline in label values, and backslash/newline in help", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const text = render({
      name: "g",
      help: 'line one\nline "two" \\ end',
      type: "gauge",
      samples: [{ labels: { v: 'x"\\\ny' }, value: 1 }],
    });
    expect(text).toContain('# HELP g line one\\nline "two" \\\\ end\n');
    expect(text).toContain('g{v="x\\"\\\\\\ny"} 1\n');
  });

  it("writes NaN and infinities as Prometheus reads them", () => {
    expect(
      [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e21, 1e-7, -0.5].map(
        formatNumber,
      ),
    ).toEqual(["NaN", "+Inf", "-Inf", "1e+21", "1e-7", "-0.5"]);
  });

  it("writes a histogram's buckets cumulatively, ending in +Inf, then _sum and _count", () => {
    const text = render({
      name: "d_seconds",
      help: "Durations.",
      type: "histogram",
      unit: "seconds",
      buckets: [0.1, 1],
      samples: [
        { labels: { app: "a" }, counts: [3, 2, 1], sum: 4.2 },
        { labels: {}, counts: [0, 0, 0], sum: 0 },
      ],
    });
    expect(text).toBe(
      [
        "# HELP d_seconds Durations.",
        "# TYPE d_seconds histogram",
        'd_seconds_bucket{app="a",le="0.1"} 3',
        'd_seconds_bucket{app="a",le="1"} 5',
        'd_seconds_bucket{app="a",le="+Inf"} 6',
        'd_seconds_sum{app="a"} 4.2',
        'd_seconds_count{app="a"} 6',
        'd_seconds_bucket{le="0.1"} 0',
        'd_seconds_bucket{le="1"} 0',
        'd_seconds_bucket{le="+Inf"} 0',
        "d_seconds_sum 0",
        "d_seconds_count 0",
        "",
      ].join("\n"),
    );
  });

  it("writes a family without samples as HELP and TYPE only, and nothing for no families", () => {
    expect(render({ name: "g", help: "h", type: "gauge", samples: [] })).toBe(
      "# HELP g h\n# TYPE g gauge\n",
    );
    expect(render()).toBe("");
  });

  const gauge = (name: string, extra: Partial<MetricFamily> = {}): MetricFamily =>
    ({ name, help: "h", type: "gauge", samples: [], ...extra }) as MetricFamily;

  it("refuses names and units Prometheus would reject or lint", () => {
    expect(refusal(gauge("1abc"))).toMatch(/does not match \[a-zA-Z_:\]/);
    expect(refusal(gauge("a-b"))).toMatch(/does not match/);
    expect(refusal({ name: "requests", help: "h", type: "counter", samples: [] })).toMatch(
      /counter requests must end in _total/,
    );
    expect(refusal(gauge("open_total"))).toMatch(/must not end in _total/);
    expect(refusal(gauge("x_count"))).toMatch(/must not end in _bucket, _count or _sum/);
    expect(refusal(gauge("latency_milliseconds"))).toMatch(
      /uses milliseconds; expose the base unit, seconds/,
    );
    expect(refusal(gauge("heap_kilobytes"))).toMatch(/base unit, bytes/);
    expect(refusal(gauge("heap", { unit: "bytes" }))).toMatch(/its name must end in _bytes/);
    expect(refusal(gauge("g", { help: " " }))).toMatch(/no help text/);
  });

  it("refuses bad label names, reserved labels and repeated label sets", () => {
    const withLabels = (
      labels: Record<string, string>,
      more: Record<string, string> = { x: "1" },
    ) =>
      gauge("g", {
        samples: [
          { labels, value: 1 },
          { labels: more, value: 2 },
        ],
      } as Partial<MetricFamily>);
    expect(refusal(withLabels({ "a-b": "1" }))).toMatch(/label name 'a-b'/);
    expect(refusal(withLabels({ __x: "1" }))).toMatch(/do not start with __/);
    expect(refusal(withLabels({ le: "1" }))).toMatch(/reserved label name 'le'/);
    expect(refusal(withLabels({ x: "1" }))).toMatch(/g\{x="1"\} is listed twice/);
  });

  it("refuses bad histograms and negative counters", () => {
    const histogram = (buckets: number[], counts: number[]): MetricFamily => ({
      name: "h_seconds",
      help: "h",
      type: "histogram",
      buckets,
      samples: [{ labels: {}, counts, sum: 0 }],
    });
    expect(refusal(histogram([1, 1], [0, 0, 0]))).toMatch(/strictly increasing/);
    expect(refusal(histogram([1, Number.POSITIVE_INFINITY], [0, 0, 0]))).toMatch(/finite/);
    expect(refusal(histogram([1], [0]))).toMatch(/1 bucket counts for 1 bounds/);
    expect(refusal(histogram([1], [0, -1]))).toMatch(/bucket count -1/);
    expect(
      refusal({
        name: "c_total",
        help: "h",
        type: "counter",
        samples: [{ labels: {}, value: -1 }],
      }),
    ).toMatch(/never negative/);
  });

  it("refuses a name exposed twice, including a histogram's derived names", () => {
    expect(refusal(gauge("g"), gauge("g"))).toMatch(/g is exposed twice/);
    expect(
      refusal(
        { name: "h", help: "h", type: "histogram", buckets: [1], samples: [] },
        { name: "h_count", help: "h", type: "histogram", buckets: [1], samples: [] },
      ),
    ).toMatch(/h_count is exposed twice/);
  });
});
