import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EventMetrics } from "../../../src/controller/event-metrics.js";
import {
  familiesFromStore,
  MetricsStore,
  proxyStatsSamples,
  renderStoreExposition,
} from "../../../src/observe/index.js";

const T0 = Date.UTC(2026, 0, 1);
const dirs: string[] = [];
const opened: MetricsStore[] = [];

function open(): MetricsStore {
  const dir = mkdtempSync(join(tmpdir(), "baton-exposition-"));
  dirs.push(dir);
  const store = MetricsStore.open(join(dir, "state"));
  opened.push(store);
  return store;
}

afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function declareHistogram(store: MetricsStore, base: string): void {
  store.declare(`${base}_bucket`, "counter", "Request time.", "seconds");
  store.declare(`${base}_sum`, "counter", "Request time (sum).", "seconds");
  store.declare(`${base}_count`, "counter", "Request time (count).", "");
}

describe("the store's newest samples as an exposition", () => {
  it("puts a histogram back together from cumulative buckets", () => {
    const store = open();
    declareHistogram(store, "baton_http_request_duration_seconds");
    store.declare("baton_http_requests_total", "counter", "Requests.", "");
    const samples = proxyStatsSamples(
      {
        pid: 1,
        startedAt: T0,
        metrics: true,
        routes: [
          {
            app: "web",
            protocol: "http",
            since: T0,
            bytesIn: 10,
            bytesOut: 20,
            connectionsTotal: 3,
            openConnections: 1,
            requests: { "200": 5, "500": 1 },
            duration: { bucketsS: [0.01, 0.1, 1], cumulative: [2, 5, 5], count: 6, sumS: 1.9 },
          },
        ],
      },
      T0,
    );
    store.append(samples);
    const families = familiesFromStore(store, T0 - 1);
    const histogram = families.find((f) => f.name === "baton_http_request_duration_seconds");
    expect(histogram).toEqual({
      name: "baton_http_request_duration_seconds",
      type: "histogram",
      help: "Request time.",
      unit: "seconds",
      buckets: [0.01, 0.1, 1],
      samples: [{ labels: { app: "web" }, counts: [2, 3, 0, 1], sum: 1.9 }],
    });
    const text = renderStoreExposition(store, T0 - 1);
    expect(text).toContain('baton_http_request_duration_seconds_bucket{app="web",le="0.1"} 5');
    expect(text).toContain('baton_http_request_duration_seconds_bucket{app="web",le="+Inf"} 6');
    expect(text).toContain('baton_http_request_duration_seconds_count{app="web"} 6');
    expect(text).toContain('baton_http_requests_total{app="web",code="500"} 1');
    // No part of the histogram is exposed as a family of its own.
    expect(families.map((f) => f.name)).not.toContain("baton_http_request_duration_seconds_sum");
  });

  it("leaves out a family the exposition refuses, not the others", () => {
    const store = open();
    store.declare("bad_gauge_total", "gauge", "A gauge named like a counter.", "");
    store.append([
      { name: "bad_gauge_total", labels: {}, at: T0, value: 1 },
      { name: "undeclared_total", labels: {}, at: T0, value: 2 },
    ]);
    expect(renderStoreExposition(store, T0)).toBe(
      "# HELP undeclared_total undeclared_total (undeclared)\n# TYPE undeclared_total counter\nundeclared_total 2\n",
    );
  });

  it("leaves out series not sampled since `since` and exposes undeclared names as gauges", () => {
    const store = open();
    store.declare("baton_replica_memory_bytes", "gauge", "Memory.", "bytes");
    store.append([
      { name: "baton_replica_memory_bytes", labels: { replica: "old" }, at: T0, value: 1 },
      { name: "baton_replica_memory_bytes", labels: { replica: "new" }, at: T0 + 60_000, value: 2 },
      { name: "custom_thing", labels: {}, at: T0 + 60_000, value: 7 },
    ]);
    const families = familiesFromStore(store, T0 + 30_000);
    expect(families).toEqual([
      {
        name: "baton_replica_memory_bytes",
        type: "gauge",
        help: "Memory.",
        unit: "bytes",
        samples: [{ labels: { replica: "new" }, value: 2 }],
      },
      {
        name: "custom_thing",
        type: "gauge",
        help: "custom_thing (undeclared)",
        samples: [{ labels: {}, value: 7 }],
      },
    ]);
  });
});

describe("metrics from events", () => {
  const record = (type: string, app: string | null, data: Record<string, unknown>, at = T0) => ({
    id: 1,
    at,
    type,
    app,
    replica: null,
    message: "",
    data,
  });

  it("counts restarts per app, keeps the last durations and picks up from the store", () => {
    const store = open();
    const metrics = new EventMetrics({
      rolloutStartedAt: (id) => (id === 7 ? T0 - 4_000 : undefined),
      runTimes: (id) => (id === 3 ? { start: T0 - 10_000, end: T0 - 1_000 } : undefined),
    });
    metrics.observe(record("replica.exited", "web", {}));
    metrics.observe(record("replica.start_failed", "web", {}));
    metrics.observe(record("rollout.rolled_out", "web", { rollout: 7, durationMs: 2_500 }));
    metrics.observe(record("rollout.rolled_back", "web", { rollout: 7 }));
    metrics.observe(record("run.passed", null, { run: 3, pipeline: "ci" }));
    metrics.observe(record("run.step", null, { run: 3, pipeline: "ci" }));
    const samples = metrics.samples(T0, ["web", "api"]);
    const value = (name: string, labels: Record<string, string>) =>
      samples.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))
        ?.value;
    expect(value("baton_replica_restarts_total", { app: "web" })).toBe(2);
    expect(value("baton_replica_restarts_total", { app: "api" })).toBe(0);
    expect(value("baton_rollout_duration_seconds", { app: "web", outcome: "rolled-out" })).toBe(
      2.5,
    );
    expect(value("baton_rollout_duration_seconds", { app: "web", outcome: "rolled-back" })).toBe(4);
    expect(value("baton_pipeline_run_duration_seconds", { pipeline: "ci", state: "passed" })).toBe(
      9,
    );
    expect(samples).toHaveLength(5);

    store.append(samples);
    const next = new EventMetrics({ rolloutStartedAt: () => undefined, runTimes: () => undefined });
    next.seed(store);
    next.observe(record("replica.exited", "web", {}));
    const after = next.samples(T0 + 1_000, ["web"]);
    expect(
      after.find((s) => s.name === "baton_replica_restarts_total" && s.labels.app === "web")?.value,
    ).toBe(3);
  });
});
