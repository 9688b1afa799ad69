import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { MetricsError, MetricsStore, type NewSample } from "../../../src/observe/metrics/index.js";
import type { Sample, SeriesSelector } from "../../../src/observe/series.js";

const MIN = 60_000;
const HOUR = 3_600_000;
/** Minute-aligned, so minute arithmetic in the tests reads plainly. */
const T0 = Date.UTC(2026, 0, 1);

const dirs: string[] = [];
const opened: MetricsStore[] = [];

function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "baton-metrics-"));
  dirs.push(dir);
  return join(dir, "state");
}

function open(dir = stateDir(), options: Parameters<typeof MetricsStore.open>[1] = {}) {
  const store = MetricsStore.open(dir, options);
  opened.push(store);
  return store;
}

afterEach(() => {
  for (const store of opened.splice(0)) {
    try {
      store.close();
    } catch {
      // closed by the test already
    }
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function sel(name: string, matchers: SeriesSelector["matchers"] = []): SeriesSelector {
  return { name, matchers };
}

/** One sample a second of `name{labels}` over [from, from + seconds), value from `f(i)`. */
function everySecond(
  name: string,
  labels: Record<string, string>,
  from: number,
  seconds: number,
  f: (i: number) => number,
): NewSample[] {
  return Array.from({ length: seconds }, (_, i) => ({
    name,
    labels,
    at: from + i * 1_000,
    value: f(i),
  }));
}

/** selectColumns() read back as select() gives it, to compare the two. */
function columnsAsSeries(store: MetricsStore, selector: SeriesSelector, from: number, to: number) {
  return store.selectColumns(selector, from, to).map(({ name, labels, at, value }) => ({
    name,
    labels,
    samples: Array.from(at, (t, i) => ({ at: t, value: value[i] as number })),
  }));
}

/** What Prometheus' increase() counts over samples: growth, a drop being a reset to the new value. */
function counterIncrease(samples: readonly Sample[]): number {
  let total = 0;
  for (let i = 1; i < samples.length; i++) {
    const prev = (samples[i - 1] as Sample).value;
    const cur = (samples[i] as Sample).value;
    total += cur >= prev ? cur - prev : cur;
  }
  return total;
}

describe("MetricsStore", () => {
  it("creates metrics.db in the state directory, apart from the state store", () => {
    const dir = stateDir();
    const store = open(dir);
    expect(store.path).toBe(join(dir, "metrics.db"));
    const db = new Database(store.path, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
  });

  it("creates nothing for a reader when no metrics were recorded", () => {
    const dir = stateDir();
    expect(() => open(dir, { create: false })).toThrow(
      expect.objectContaining({
        code: "metrics.missing",
        hint: expect.stringContaining("baton up"),
      }),
    );
    expect(existsSync(dir)).toBe(false);
    open(dir).append([{ name: "up", labels: {}, at: T0, value: 1 }]);
    expect(open(dir, { create: false }).latest(sel("up"))).toHaveLength(1);
  });

  it("selects a range, both ends included, by label matchers", () => {
    const store = open();
    store.append([
      ...everySecond("cpu", { app: "api", replica: "api-1" }, T0, 10, (i) => i),
      ...everySecond("cpu", { app: "api", replica: "api-2" }, T0, 10, (i) => 100 + i),
      ...everySecond("cpu", { app: "web", replica: "web-1" }, T0, 10, (i) => 200 + i),
      ...everySecond("mem", { app: "api", replica: "api-1" }, T0, 10, (i) => -i),
    ]);
    const api = store.select(
      sel("cpu", [{ label: "app", op: "=", value: "api" }]),
      T0 + 2_000,
      T0 + 4_000,
    );
    expect(api.map((s) => s.labels.replica)).toEqual(["api-1", "api-2"]);
    expect(api[0]?.samples).toEqual([
      { at: T0 + 2_000, value: 2 },
      { at: T0 + 3_000, value: 3 },
      { at: T0 + 4_000, value: 4 },
    ]);
    expect(api[0]?.name).toBe("cpu");

    const ids = (m: SeriesSelector["matchers"]) =>
      store.select(sel("cpu", m), T0, T0 + 9_000).map((s) => s.labels.replica);
    expect(ids([{ label: "app", op: "!=", value: "api" }])).toEqual(["web-1"]);
    expect(ids([{ label: "replica", op: "=~", value: "api-.*" }])).toEqual(["api-1", "api-2"]);
    expect(ids([{ label: "replica", op: "!~", value: ".*-1" }])).toEqual(["api-2"]);
    expect(ids([{ label: "zone", op: "=", value: "" }])).toHaveLength(3);
    expect(store.select(sel("cpu"), T0 + 20_000, T0 + 30_000)).toEqual([]);
    expect(store.select(sel("nothing"), T0, T0 + 9_000)).toEqual([]);
  });

  it("keeps one series whatever order its labels are written in", () => {
    const store = open();
    store.append([{ name: "up", labels: { app: "api", replica: "r1" }, at: T0, value: 1 }]);
    store.append([{ name: "up", labels: { replica: "r1", app: "api" }, at: T0 + 1_000, value: 0 }]);
    expect(store.seriesOf("up")).toEqual([{ app: "api", replica: "r1" }]);
    const [series, ...rest] = store.select(sel("up"), T0, T0 + 1_000);
    expect(rest).toEqual([]);
    expect(series?.samples.map((s) => s.value)).toEqual([1, 0]);
  });

  it("replaces a sample written twice for the same time", () => {
    const store = open();
    store.append([{ name: "g", labels: {}, at: T0, value: 1 }]);
    store.append([{ name: "g", labels: {}, at: T0, value: 2 }]);
    expect(store.select(sel("g"), T0, T0)[0]?.samples).toEqual([{ at: T0, value: 2 }]);
  });

  it("keeps NaN and infinities", () => {
    const store = open();
    const values = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5];
    store.append(
      values.map((value, i) => ({ name: "odd", labels: {}, at: T0 + i * 1_000, value })),
    );
    const read = () => store.select(sel("odd"), T0, T0 + MIN)[0]?.samples.map((s) => s.value);
    expect(read()).toEqual(values);
    store.compact(T0 + 2 * MIN); // sealed into a minute blob
    expect(read()).toEqual(values);
    expect(columnsAsSeries(store, sel("odd"), T0, T0 + MIN)).toEqual(
      store.select(sel("odd"), T0, T0 + MIN),
    );
  });

  it("gives the newest sample of each series, from rows, blobs or buckets", () => {
    const store = open(stateDir(), { retention: { rawMs: HOUR, aggregatesMs: 2 * HOUR } });
    store.append([
      ...everySecond("up", { replica: "a" }, T0, 90, (i) => i),
      ...everySecond("up", { replica: "b" }, T0, 30, (i) => 1_000 + i),
    ]);
    const latest = () =>
      store.latest(sel("up")).map((s) => ({ replica: s.labels.replica, sample: s.samples[0] }));
    const expected = [
      { replica: "a", sample: { at: T0 + 89_000, value: 89 } },
      { replica: "b", sample: { at: T0 + 29_000, value: 1_029 } },
    ];
    expect(latest()).toEqual(expected);
    store.compact(T0 + 2 * MIN); // a's first minute and all of b sealed, a's second minute open
    expect(latest()).toEqual(expected);
    store.compact(T0 + HOUR + 5 * MIN); // everything summarised: the last minute's last value
    expect(latest()).toEqual([
      { replica: "a", sample: { at: T0 + MIN, value: 89 } },
      { replica: "b", sample: { at: T0, value: 1_029 } },
    ]);
    expect(store.latest(sel("up", [{ label: "replica", op: "=", value: "b" }]))).toHaveLength(1);
    // Only series still written to since a time.
    expect(store.latest(sel("up"), T0 + MIN).map((s) => s.labels.replica)).toEqual(["a"]);
    expect(store.latest(sel("up"), T0 + 2 * MIN)).toEqual([]);
  });

  it("summarises minutes past the raw retention keeping min, max, average and last", () => {
    const store = open(stateDir(), { retention: { rawMs: HOUR, aggregatesMs: 24 * HOUR } });
    // Minute 0: 0..59; minute 1: 59..0 with a spike; minute 2: all NaN but one.
    store.append([
      ...everySecond("load", {}, T0, 60, (i) => i),
      ...everySecond("load", {}, T0 + MIN, 60, (i) => (i === 30 ? 500 : 59 - i)),
      ...everySecond("load", {}, T0 + 2 * MIN, 60, (i) => (i === 10 ? 7 : Number.NaN)),
    ]);
    const report = store.compact(T0 + HOUR + 3 * MIN);
    expect(report).toMatchObject({ sealed: 180, downsampled: 3, expired: 0, forgottenSeries: 0 });
    expect(store.compactedBefore()).toBe(T0 + 3 * MIN);

    const [agg] = store.aggregates(sel("load"), T0, T0 + 3 * MIN);
    expect(
      agg?.minutes.map(({ start, min, max, count, last }) => ({ start, min, max, count, last })),
    ).toEqual([
      { start: T0, min: 0, max: 59, count: 60, last: 59 },
      { start: T0 + MIN, min: 0, max: 500, count: 60, last: 0 },
      { start: T0 + 2 * MIN, min: 7, max: 7, count: 1, last: 7 },
    ]);
    expect(agg?.minutes[1]?.sum).toBe((59 * 60) / 2 - 29 + 500);

    // A gauge reads back as each minute's average.
    expect(store.select(sel("load"), T0, T0 + 3 * MIN)[0]?.samples).toEqual([
      { at: T0, value: 29.5 },
      { at: T0 + MIN, value: ((59 * 60) / 2 - 29 + 500) / 60 },
      { at: T0 + 2 * MIN, value: 7 },
    ]);
  });

  it("reads raw samples where it has them and minute buckets beyond", () => {
    const store = open(stateDir(), { retention: { rawMs: HOUR, aggregatesMs: 24 * HOUR } });
    store.append(everySecond("temp", { host: "h1" }, T0, 3 * 3_600, (i) => i % 60));
    store.compact(T0 + 3 * HOUR); // raw kept for [T0 + 2h, T0 + 3h)
    const boundary = T0 + 2 * HOUR;
    expect(store.compactedBefore()).toBe(boundary);

    const samples = store.select(sel("temp"), T0 + HOUR, T0 + 3 * HOUR)[0]?.samples ?? [];
    const old = samples.filter((s) => s.at < boundary);
    const recent = samples.filter((s) => s.at >= boundary);
    expect(old).toHaveLength(60);
    expect(old.every((s, i) => s.at === T0 + HOUR + i * MIN && s.value === 29.5)).toBe(true);
    expect(recent).toHaveLength(3_600);
    expect(recent[0]).toEqual({ at: boundary, value: 0 });
    expect(recent.at(-1)).toEqual({ at: T0 + 3 * HOUR - 1_000, value: 59 });
    // Oldest first across the boundary, no duplicate times.
    expect(samples.every((s, i) => i === 0 || s.at > (samples[i - 1] as Sample).at)).toBe(true);

    // The columnar read gives the same, over any range across the boundary.
    for (const [from, to] of [
      [T0, T0 + 3 * HOUR],
      [boundary - 90_000, boundary + 90_500],
      [boundary + 1_500, boundary + 1_500],
    ] as const) {
      expect(columnsAsSeries(store, sel("temp"), from, to)).toEqual(
        store.select(sel("temp"), from, to),
      );
    }
    store.append(everySecond("temp", { host: "h1" }, T0 + 3 * HOUR, 30, () => 1)); // unsealed rows
    expect(columnsAsSeries(store, sel("temp"), T0, T0 + 4 * HOUR)).toEqual(
      store.select(sel("temp"), T0, T0 + 4 * HOUR),
    );

    // The aggregate view agrees on both sides of it.
    const minutes = store.aggregates(sel("temp"), boundary - 2 * MIN, boundary + MIN)[0]?.minutes;
    expect(minutes?.map((m) => [m.start - boundary, m.count, m.sum / m.count, m.max])).toEqual([
      [-2 * MIN, 60, 29.5, 59],
      [-MIN, 60, 29.5, 59],
      [0, 60, 29.5, 59],
      [MIN, 1, 0, 0],
    ]);
  });

  it("reads a counter's downsampled minutes so that its increase survives resets", () => {
    const store = open(stateDir(), { retention: { rawMs: HOUR, aggregatesMs: 24 * HOUR } });
    store.declare("requests_total", "counter", "Requests served.", "");
    store.declare("queue_depth", "gauge", "Jobs waiting.", "");
    // A counter climbing 3 a second, restarting (from 0) at 02:30, again at 05:00 (exactly at
    // a minute's start) and at 07:59, over 10 minutes.
    let value = 100;
    const raw: NewSample[] = [];
    for (let i = 0; i < 600; i++) {
      if (i === 150 || i === 300 || i === 479) value = 0;
      else value += 3;
      raw.push({ name: "requests_total", labels: { app: "api" }, at: T0 + i * 1_000, value });
      raw.push({ name: "queue_depth", labels: { app: "api" }, at: T0 + i * 1_000, value: i % 60 });
    }
    store.append(raw);
    // Read from buckets, the first sample is the first minute's last value: growth within
    // that minute is before the first sample, as growth before a raw window's first sample is.
    const truth = counterIncrease(raw.filter((s) => s.name === "requests_total").slice(59));

    store.compact(T0 + HOUR + 20 * MIN);
    expect(store.compactedBefore()).toBe(T0 + 20 * MIN);
    const counter = store.select(sel("requests_total"), T0, T0 + 20 * MIN)[0]?.samples ?? [];
    expect(counterIncrease(counter)).toBe(truth);
    expect(columnsAsSeries(store, sel("requests_total"), T0, T0 + 20 * MIN)[0]?.samples).toEqual(
      counter,
    );
    // Each minute's last value is there, at the minute's start.
    for (let m = 0; m < 10; m++) {
      const last = raw.filter((s) => s.name === "requests_total")[m * 60 + 59]?.value;
      expect(counter.find((s) => s.at === T0 + m * MIN)?.value).toBe(last);
    }
    const gauge = store.select(sel("queue_depth"), T0, T0 + 20 * MIN)[0]?.samples ?? [];
    expect(gauge).toEqual(
      Array.from({ length: 10 }, (_, m) => ({ at: T0 + m * MIN, value: 29.5 })),
    );
  });

  it("counts a counter's growth across the raw/bucket boundary", () => {
    const store = open(stateDir(), { retention: { rawMs: HOUR, aggregatesMs: 24 * HOUR } });
    store.declare("restarts_total", "counter", "Replica restarts.");
    const raw = everySecond("restarts_total", {}, T0, 2 * 3_600, (i) =>
      i < 4_000 ? i : i - 4_000,
    );
    store.append(raw);
    store.compact(T0 + 2 * HOUR + 30 * MIN); // boundary at T0 + 1h30
    const read = store.select(sel("restarts_total"), T0, T0 + 2 * HOUR)[0]?.samples ?? [];
    expect(counterIncrease(read)).toBe(counterIncrease(raw.slice(59)));
  });

  it("deletes what is past the aggregate retention and forgets empty series", () => {
    const store = open(stateDir(), { retention: { rawMs: HOUR, aggregatesMs: 2 * HOUR } });
    store.declare("kept_declared", "gauge", "Declared, never written.");
    store.append([
      ...everySecond("old", { r: "1" }, T0, 120, () => 1),
      ...everySecond("young", { r: "1" }, T0 + 90 * MIN, 60, () => 2),
    ]);
    store.compact(T0 + HOUR + 30 * MIN);
    expect(store.aggregates(sel("old"), T0, T0 + HOUR)[0]?.minutes).toHaveLength(2);

    const report = store.compact(T0 + 2 * HOUR + 5 * MIN);
    expect(report.expired).toBe(2);
    expect(report.forgottenSeries).toBe(1);
    expect(store.select(sel("old"), T0, T0 + 3 * HOUR)).toEqual([]);
    expect(store.seriesOf("old")).toEqual([]);
    expect(store.names()).toEqual(["kept_declared", "young"]);
    expect(store.select(sel("young"), T0, T0 + 3 * HOUR)[0]?.samples).toHaveLength(60);

    // A forgotten series written again is a new series, readable as before.
    store.append([{ name: "old", labels: { r: "1" }, at: T0 + 2 * HOUR + 6 * MIN, value: 3 }]);
    expect(store.latest(sel("old"))[0]?.samples).toEqual([
      { at: T0 + 2 * HOUR + 6 * MIN, value: 3 },
    ]);
  });

  it("folds samples that arrive for a minute already sealed", () => {
    const store = open();
    store.append(everySecond("late", {}, T0, 60, (i) => i));
    store.compact(T0 + 2 * MIN);
    store.append([
      { name: "late", labels: {}, at: T0 + 30_500, value: -1 },
      { name: "late", labels: {}, at: T0 + 10_000, value: 100 },
    ]);
    const before = store.select(sel("late"), T0, T0 + MIN)[0]?.samples ?? [];
    expect(columnsAsSeries(store, sel("late"), T0, T0 + MIN)[0]?.samples).toEqual(before);
    store.compact(T0 + 3 * MIN);
    const after = store.select(sel("late"), T0, T0 + MIN)[0]?.samples ?? [];
    for (const samples of [before, after]) {
      expect(samples).toHaveLength(61);
      expect(samples.find((s) => s.at === T0 + 10_000)?.value).toBe(100);
      expect(samples.find((s) => s.at === T0 + 30_500)?.value).toBe(-1);
      expect(samples.every((s, i) => i === 0 || s.at > (samples[i - 1] as Sample).at)).toBe(true);
    }
  });

  it("keeps samples, buckets, declarations and the boundary when reopened", () => {
    const dir = stateDir();
    const options = { retention: { rawMs: HOUR, aggregatesMs: 24 * HOUR } };
    const first = open(dir, options);
    first.declare("baton_replica_restarts_total", "counter", "Restarts of a replica.", "");
    first.append(everySecond("baton_replica_restarts_total", { app: "api" }, T0, 7_200, (i) => i));
    first.compact(T0 + 2 * HOUR + 10 * MIN);
    first.append([
      {
        name: "baton_replica_restarts_total",
        labels: { app: "api" },
        at: T0 + 2 * HOUR,
        value: 7_200,
      },
    ]);
    const range = [T0, T0 + 3 * HOUR] as const;
    const selector = sel("baton_replica_restarts_total");
    const before = {
      select: first.select(selector, ...range),
      aggregates: first.aggregates(selector, ...range),
      latest: first.latest(selector),
      boundary: first.compactedBefore(),
    };
    first.close();

    const second = open(dir, options);
    expect(second.select(selector, ...range)).toEqual(before.select);
    expect(second.aggregates(selector, ...range)).toEqual(before.aggregates);
    expect(second.latest(selector)).toEqual(before.latest);
    expect(second.compactedBefore()).toBe(before.boundary);
    expect(second.declaration("baton_replica_restarts_total")).toEqual({
      name: "baton_replica_restarts_total",
      kind: "counter",
      help: "Restarts of a replica.",
      unit: "",
    });
    // The reopened writer appends to the same series.
    second.append([
      {
        name: "baton_replica_restarts_total",
        labels: { app: "api" },
        at: T0 + 2 * HOUR + 1_000,
        value: 7_201,
      },
    ]);
    expect(second.seriesOf("baton_replica_restarts_total")).toHaveLength(1);
  });

  it("lets a reader in another connection see what the writer appends", () => {
    const dir = stateDir();
    const writer = open(dir);
    const reader = open(dir);
    writer.append([{ name: "seen", labels: { a: "1" }, at: T0, value: 1 }]);
    expect(reader.latest(sel("seen"))[0]?.samples).toEqual([{ at: T0, value: 1 }]);
    writer.append([{ name: "seen", labels: { a: "2" }, at: T0, value: 2 }]);
    expect(reader.latest(sel("seen")).map((s) => s.labels.a)).toEqual(["1", "2"]);
  });

  it("describes declared metrics and lists names", () => {
    const store = open();
    store.declare("baton_app_ready_replicas", "gauge", "Ready replicas of an app.");
    store.declare("baton_http_requests_total", "counter", "Requests through the proxy.");
    store.declare("baton_http_requests_total", "counter", "HTTP requests through the proxy.", "");
    store.append([{ name: "undeclared", labels: {}, at: T0, value: 1 }]);
    expect(store.names()).toEqual([
      "baton_app_ready_replicas",
      "baton_http_requests_total",
      "undeclared",
    ]);
    expect(store.declarations().map((d) => [d.name, d.kind, d.help])).toEqual([
      ["baton_app_ready_replicas", "gauge", "Ready replicas of an app."],
      ["baton_http_requests_total", "counter", "HTTP requests through the proxy."],
    ]);
    expect(store.declaration("undeclared")).toBeUndefined();
  });

  it("compacts by the injected clock when given no time", () => {
    let now = T0 + 30 * MIN;
    const store = open(stateDir(), {
      now: () => now,
      retention: { rawMs: 10 * MIN, aggregatesMs: HOUR },
    });
    store.append(everySecond("clocked", {}, T0, 60, () => 4));
    store.compact();
    expect(store.compactedBefore()).toBe(T0 + 20 * MIN);
    expect(store.select(sel("clocked"), T0, T0 + MIN)[0]?.samples).toEqual([{ at: T0, value: 4 }]);
    now = T0 + 2 * HOUR;
    expect(store.compact().forgottenSeries).toBe(1);
  });

  it("rejects bad names, times and retentions, saying what to do", () => {
    const store = open();
    const rejects = (samples: NewSample[], code: string) => {
      let error: unknown;
      try {
        store.append(samples);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(MetricsError);
      expect((error as MetricsError).code).toBe(code);
      expect((error as MetricsError).hint).not.toBe("");
    };
    rejects([{ name: "bad-name", labels: {}, at: T0, value: 1 }], "metrics.invalid_name");
    rejects(
      [{ name: "ok", labels: { "bad label": "x" }, at: T0, value: 1 }],
      "metrics.invalid_name",
    );
    rejects([{ name: "ok", labels: { __name__: "x" }, at: T0, value: 1 }], "metrics.invalid_name");
    rejects([{ name: "ok", labels: {}, at: T0 + 0.5, value: 1 }], "metrics.invalid_sample");
    // The whole batch is refused: the valid sample before the bad one is not written.
    rejects(
      [
        { name: "ok", labels: {}, at: T0, value: 1 },
        { name: "ok", labels: {}, at: Number.NaN, value: 1 },
      ],
      "metrics.invalid_sample",
    );
    expect(store.select(sel("ok"), 0, T0 + HOUR)).toEqual([]);

    expect(() => open(stateDir(), { retention: { rawMs: 0 } })).toThrow(/retention rawMs/);
    expect(() => open(stateDir(), { retention: { rawMs: 2 * HOUR, aggregatesMs: HOUR } })).toThrow(
      MetricsError,
    );
  });

  it("refuses a metrics file written by a newer Baton, and a file that is not one", () => {
    const dir = stateDir();
    open(dir).close();
    const db = new Database(join(dir, "metrics.db"));
    db.pragma("user_version = 99");
    db.close();
    expect(() => open(dir)).toThrow(expect.objectContaining({ code: "metrics.too_new" }));

    const other = stateDir();
    open(other).close();
    rmSync(join(other, "metrics.db-wal"), { force: true });
    rmSync(join(other, "metrics.db-shm"), { force: true });
    writeFileSync(join(other, "metrics.db"), "not a database at all, but long enough ".repeat(200));
    expect(() => open(other)).toThrow(expect.objectContaining({ code: "metrics.corrupt" }));
  });
});
