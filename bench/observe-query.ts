/**
 * Metrics store: how long a day of 1-second samples of one series takes to read back (goal:
 * under 50 ms), and what writing and compacting cost.
 *
 * A temporary store (a real SQLite file) is filled as a controller would fill it, second by
 * second: one series sampled every second for a day, batches of a minute for the first 23 h,
 * then in the last hour 600 more series ("noise", e.g. 100 replicas × 6) every second, one
 * append of 601 samples a second, with compact() once a simulated minute, as the controller
 * runs it. Then, repeated: select() of the whole day of the one series (86 400 samples read
 * from minute blobs). Separately, on stores holding only that day: compact() sealing the day's
 * raw rows into minute blobs, compact() downsampling the day into 1-minute buckets, select()
 * of the day from buckets, and, for comparison, select() of the day left in unsealed rows
 * (what a store never compacted would read).
 *
 *   node --import tsx bench/observe-query.ts [--quick]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MetricsStore, type NewSample } from "../src/observe/metrics/index.js";
import type { SeriesSelector } from "../src/observe/series.js";
import { round, type Summary, summarize } from "./lib/stats.js";
import { markdownTable, writeResults } from "./lib/table.js";

export interface ObserveQueryOptions {
  /** Smaller and fewer runs: for checking the harness, not for numbers. */
  readonly quick: boolean;
  readonly resultsDir?: string;
  readonly log?: (line: string) => void;
}

export interface ObserveQueryResult {
  readonly name: "observe-query";
  readonly at: string;
  readonly machine: {
    readonly cpus: number;
    readonly node: string;
    /** 1-minute load average before and after: other work on the machine skews results. */
    readonly load: readonly [number, number];
  };
  readonly settings: {
    readonly daySamples: number;
    readonly noiseSeries: number;
    readonly noiseSeconds: number;
    readonly repeats: number;
  };
  /** Seconds to fill the main store (information). */
  readonly fillS: number;
  /** All figures in ms: wall time unless named Cpu (this process' user + system time). */
  /** The process' first select() of the day (cold: before the JIT compiled the read path). */
  readonly selectDayFirstMs: number;
  readonly selectDay: Summary;
  readonly selectDayCpu: Summary;
  /** selectColumns(): the same samples as two Float64Arrays, no object per sample. */
  readonly selectDayColumns: Summary;
  readonly selectDayColumnsCpu: Summary;
  readonly selectDayUnsealed: Summary;
  readonly selectDayBuckets: Summary;
  /** One append of the noise series plus the day series (601 samples), once a second. */
  readonly appendBatch: Summary;
  /** compact() once a simulated minute while the noise series run (sealing ~36 000 rows). */
  readonly compactMinute: Summary;
  readonly compactSealDay: Summary;
  readonly compactDownsampleDay: Summary;
  readonly goalMs: number;
  readonly goalMet: boolean;
}

const DAY_MS = 86_400_000;
const GOAL_MS = 50;
/** A fixed, minute-aligned start so every run stores the same minutes. */
const START = Date.UTC(2026, 0, 1);
const DAY_SERIES: SeriesSelector = {
  name: "bench_value",
  matchers: [{ label: "series", op: "=", value: "day" }],
};

function daySample(at: number): NewSample {
  // A counter-like climb with a daily wave: values that change, as real ones do.
  return {
    name: "bench_value",
    labels: { series: "day" },
    at,
    value: (at - START) / 1_000 + Math.sin((at - START) / 3_600_000),
  };
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** Wall and CPU ms of `runs` runs; the reader returns how many samples it got, checked. */
function timeReads(
  runs: number,
  expected: number,
  read: () => number,
): { wall: number[]; cpu: number[] } {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const count = read();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1_000);
    if (count !== expected)
      throw new Error(`reading the day gave ${count} samples, not ${expected}`);
  }
  return { wall, cpu };
}

function selectDay(store: MetricsStore): number {
  return store.select(DAY_SERIES, START, START + DAY_MS - 1)[0]?.samples.length ?? 0;
}

function selectDayColumns(store: MetricsStore): number {
  return store.selectColumns(DAY_SERIES, START, START + DAY_MS - 1)[0]?.at.length ?? 0;
}

/** The main store: a day of one series, the last `noiseSeconds` with 600 more series. */
function fillMain(
  store: MetricsStore,
  noiseSeries: number,
  noiseSeconds: number,
): { append: number[]; compact: number[] } {
  const append: number[] = [];
  const compact: number[] = [];
  const noiseFrom = START + DAY_MS - noiseSeconds * 1_000;
  for (let minute = START; minute < noiseFrom; minute += 60_000) {
    const batch: NewSample[] = [];
    for (let at = minute; at < minute + 60_000; at += 1_000) batch.push(daySample(at));
    store.append(batch);
    store.compact(minute + 60_000 + 15_000);
  }
  for (let at = noiseFrom; at < START + DAY_MS; at += 1_000) {
    const batch: NewSample[] = [daySample(at)];
    for (let i = 0; i < noiseSeries; i++) {
      batch.push({
        name: "bench_noise",
        labels: { app: `app${i % 20}`, replica: `r${i}` },
        at,
        value: i + (at % 7_000) / 1_000,
      });
    }
    append.push(time(() => store.append(batch)));
    // Once a simulated minute, 15 s into the next one, as the controller's timer would.
    if ((at - START) % 60_000 === 15_000) compact.push(time(() => store.compact(at)));
  }
  store.compact(START + DAY_MS + 15_000);
  return { append, compact };
}

function dayStore(dir: string, name: string): MetricsStore {
  const store = MetricsStore.open(join(dir, name));
  const batch: NewSample[] = [];
  for (let at = START; at < START + DAY_MS; at += 1_000) batch.push(daySample(at));
  store.append(batch);
  return store;
}

export async function observeQueryBench(options: ObserveQueryOptions): Promise<ObserveQueryResult> {
  const log = options.log ?? (() => {});
  const repeats = options.quick ? 5 : 20;
  const dayRepeats = options.quick ? 2 : 5;
  const noiseSeries = options.quick ? 60 : 600;
  const noiseSeconds = options.quick ? 600 : 3_600;
  const daySamples = DAY_MS / 1_000;
  const loadBefore = loadavg()[0] as number;
  const work = mkdtempSync(join(tmpdir(), "baton-bench-observe-"));
  try {
    log(`filling: a day of 1 series, the last ${noiseSeconds} s with ${noiseSeries} more`);
    const t0 = performance.now();
    const main = MetricsStore.open(join(work, "main"));
    const fill = fillMain(main, noiseSeries, noiseSeconds);
    const fillS = (performance.now() - t0) / 1_000;
    log(`  filled in ${fillS.toFixed(1)} s`);
    // The first read of a process runs before the JIT has compiled the read path: what a
    // one-shot `baton metrics` gets. Reported on its own, left out of the repeats.
    const first = timeReads(1, daySamples, () => selectDay(main));
    const objects = timeReads(repeats, daySamples, () => selectDay(main));
    const columns = timeReads(repeats, daySamples, () => selectDayColumns(main));
    log(`select day: median ${summarize(objects.wall).median.toFixed(1)} ms`);
    main.close();

    const unsealed: number[] = [];
    const buckets: number[] = [];
    const seal: number[] = [];
    const downsample: number[] = [];
    for (let r = 0; r < dayRepeats; r++) {
      const store = dayStore(work, `day${r}`);
      unsealed.push(...timeReads(1, daySamples, () => selectDay(store)).wall);
      seal.push(time(() => store.compact(START + DAY_MS + 15_000)));
      downsample.push(time(() => store.compact(START + 2 * DAY_MS + 15_000)));
      buckets.push(...timeReads(repeats, daySamples / 60, () => selectDay(store)).wall);
      store.close();
      log(`  day store ${r + 1}/${dayRepeats}: seal ${seal.at(-1)?.toFixed(0)} ms`);
    }
    const result: ObserveQueryResult = {
      name: "observe-query",
      at: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        node: process.version,
        load: [round(loadBefore), round(loadavg()[0] as number)],
      },
      settings: { daySamples, noiseSeries, noiseSeconds, repeats },
      fillS: round(fillS),
      selectDayFirstMs: round(first.wall[0] as number),
      selectDay: summarize(objects.wall),
      selectDayCpu: summarize(objects.cpu),
      selectDayColumns: summarize(columns.wall),
      selectDayColumnsCpu: summarize(columns.cpu),
      selectDayUnsealed: summarize(unsealed),
      selectDayBuckets: summarize(buckets),
      appendBatch: summarize(fill.append),
      compactMinute: summarize(fill.compact),
      compactSealDay: summarize(seal),
      compactDownsampleDay: summarize(downsample),
      goalMs: GOAL_MS,
      goalMet: summarize(objects.wall).median < GOAL_MS,
    };
    if (options.resultsDir !== undefined || !options.quick) {
      const paths = writeResults(
        "observe-query",
        renderObserveQueryMarkdown(result),
        result,
        options.resultsDir,
      );
      log(`results: ${paths.markdown}`);
    }
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function ms(s: Summary): string {
  const digits = s.median < 10 ? 2 : 1;
  const f = (x: number) => x.toFixed(digits);
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

export function renderObserveQueryMarkdown(r: ObserveQueryResult): string {
  const s = r.settings;
  return `# Metrics store query benchmark

${r.at} — ${r.machine.cpus} CPUs, Node ${r.machine.node}; load average ${r.machine.load[0]} before, ${r.machine.load[1]} after

A temporary metrics store (SQLite, WAL) holding a day of 1-second samples of one series (${s.daySamples} samples), plus ${s.noiseSeries} other series sampled every second for the last ${s.noiseSeconds} s, written one append a second and compacted once a simulated minute (filled in ${r.fillS} s). Times in ms, median (min–max); select ${s.repeats} times, day stores ${r.compactSealDay.samples.length} times.

${markdownTable(
  ["operation", "ms"],
  [
    [
      `**select() a day of one series** (${s.daySamples} samples, minute blobs)`,
      `**${ms(r.selectDay)}**`,
    ],
    ["the same, CPU time of the process", ms(r.selectDayCpu)],
    ["the same, first read of the process (cold; not in the repeats)", String(r.selectDayFirstMs)],
    ["selectColumns() the same day (Float64Arrays, no object per sample)", ms(r.selectDayColumns)],
    ["the same, CPU time of the process", ms(r.selectDayColumnsCpu)],
    ["select() the same day left in unsealed rows (never compacted)", ms(r.selectDayUnsealed)],
    [
      `select() the day from 1-minute buckets (${s.daySamples / 60} samples)`,
      ms(r.selectDayBuckets),
    ],
    [`append() one batch of ${s.noiseSeries + 1} samples`, ms(r.appendBatch)],
    [`compact() once a minute (${s.noiseSeries + 1} series × 60 s sealed)`, ms(r.compactMinute)],
    ["compact() sealing a day of one series' rows into minute blobs", ms(r.compactSealDay)],
    [
      "compact() downsampling a day of one series into 1-minute buckets",
      ms(r.compactDownsampleDay),
    ],
  ],
)}

Goal: a day of 1-second samples of one series read with select() in under ${r.goalMs} ms (median wall time) — ${r.goalMet ? "met" : "NOT met"}. Wall times include waiting for a CPU: compare the load average with the ${r.machine.cpus} CPUs.
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
  observeQueryBench({
    quick: values.quick,
    log: (line) => process.stderr.write(`${line}\n`),
  }).then(
    (r) => process.stdout.write(`${renderObserveQueryMarkdown(r)}\n`),
    (error: unknown) => {
      process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
