import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import Database from "better-sqlite3";
import {
  type Labels,
  matchesAll,
  type Sample,
  type Series,
  type SeriesSelector,
  type SeriesSource,
} from "../series.js";
import { MetricsError } from "./errors.js";
import {
  BUCKET_MS,
  bucketSamples,
  bucketStart,
  type MinuteBucket,
  mergeMinute,
  type SeriesKind,
  summarizeMinute,
} from "./minute-bucket.js";
import {
  columnsToSamples,
  concatColumns,
  copyBlockInto,
  decodeBlock,
  decodeBlockInto,
  encodeBlock,
  lastOfBlock,
  mergeSamples,
  type SampleColumns,
  samplesToColumns,
} from "./sample-block.js";
import { ensureSchema } from "./schema.js";
import { assertValidSeries, canonicalLabels } from "./series-key.js";

export interface MetricsRetention {
  /** How long raw samples are kept, ms (default 24 h). */
  readonly rawMs: number;
  /** How long 1-minute aggregates are kept, ms (default 30 days); not shorter than rawMs. */
  readonly aggregatesMs: number;
}

export interface MetricsStoreOptions {
  /**
   * Create the directory and the file when absent (default): the controller. Read commands
   * pass false and get a `metrics.missing` error instead of an empty file.
   */
  readonly create?: boolean;
  readonly retention?: Partial<MetricsRetention>;
  /** Clock for compact() without an argument; tests inject one. */
  readonly now?: () => number;
}

/** What a sampler appends: one value of one series at one time (ms). */
export interface NewSample {
  readonly name: string;
  readonly labels: Labels;
  readonly at: number;
  readonly value: number;
}

/** What the exposition and `baton metrics` print beside a name. */
export interface SeriesDeclaration {
  readonly name: string;
  readonly kind: SeriesKind;
  readonly help: string;
  /** e.g. "seconds", "bytes", "" when the value has none. */
  readonly unit: string;
}

/** One series' minutes, oldest first. */
export interface SeriesAggregates {
  readonly name: string;
  readonly labels: Labels;
  readonly minutes: readonly MinuteBucket[];
}

/** A series' samples as parallel arrays, oldest first (see selectColumns()). */
export interface SeriesColumns extends SampleColumns {
  readonly name: string;
  readonly labels: Labels;
}

/** What one compact() did, in rows/blobs touched. */
export interface CompactionReport {
  /** Raw samples moved from rows into minute blobs. */
  readonly sealed: number;
  /** Minute blobs past the raw retention summarised into buckets. */
  readonly downsampled: number;
  /** Buckets (and stray raw data) deleted past the aggregate retention. */
  readonly expired: number;
  /** Series left with no data at all, forgotten. */
  readonly forgottenSeries: number;
}

export const DEFAULT_RETENTION: MetricsRetention = {
  rawMs: 24 * 3_600_000,
  aggregatesMs: 30 * 24 * 3_600_000,
};

const DB_FILE = "metrics.db";
const BUSY_TIMEOUT_MS = 5_000;
/**
 * A minute is sealed only once it ended this long ago: a sampler's sample for 12:00:59.9
 * appended at 12:01:00.1 still finds its minute open rather than rewriting a sealed blob.
 */
const SEAL_GRACE_MS = 10_000;

type BucketRow = [
  number,
  number | null,
  number | null,
  number | null,
  number,
  number | null,
  number,
  number,
];

interface SeriesRow {
  id: number;
  labels: string;
}

/**
 * Baton's metrics as time series, in `<stateDir>/metrics.db`: a file of its own (WAL) so that
 * a second's worth of samples never waits on, nor delays, a write to the state store.
 *
 * One process writes (the controller: append, declare, compact); others may read at the same
 * time (`baton metrics`, `baton top`). compact() is meant to run about once a minute: it seals
 * finished minutes into blobs (what keeps queries fast), summarises what is past the raw
 * retention and drops what is past the aggregate retention. Queries are right without it,
 * only slower.
 */
export class MetricsStore implements SeriesSource {
  readonly path: string;
  private kept: MetricsRetention;
  private readonly db: BetterSqlite3.Database;
  private readonly now: () => number;
  private readonly stmt: ReturnType<typeof prepareStatements>;
  /** name + "\0" + canonical labels → series id, for the writer's appends. */
  private readonly ids = new Map<string, number>();
  /** series id → labels, parsed once (a series' labels never change). */
  private readonly labelsById = new Map<number, Labels>();
  private readonly appendAll: (samples: readonly NewSample[]) => void;

  /** How long raw samples and 1-minute aggregates are kept. */
  get retention(): MetricsRetention {
    return this.kept;
  }

  /** A new retention (the definition changed it), applied from the next compaction. */
  setRetention(retention: Partial<MetricsRetention>): void {
    this.kept = validRetention({ ...this.kept, ...retention });
  }

  private constructor(
    db: BetterSqlite3.Database,
    path: string,
    retention: MetricsRetention,
    now: () => number,
  ) {
    this.db = db;
    this.path = path;
    this.kept = retention;
    this.now = now;
    this.stmt = prepareStatements(db);
    this.appendAll = db.transaction((samples: readonly NewSample[]) => {
      for (const s of samples) {
        assertValidSample(s);
        this.stmt.insertSample.run(this.seriesId(s.name, s.labels), s.at, s.value);
      }
    });
  }

  /** Opens (creating when absent) `<stateDir>/metrics.db`. */
  static open(stateDir: string, options: MetricsStoreOptions = {}): MetricsStore {
    const retention = validRetention({ ...DEFAULT_RETENTION, ...options.retention });
    const path = join(stateDir, DB_FILE);
    const create = options.create ?? true;
    if (create) {
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      // SQLite creates the file (and its -wal, -shm, which take its mode) 0644 otherwise.
      closeSync(openSync(path, "a", 0o600));
    } else if (!existsSync(path)) {
      throw new MetricsError(
        "metrics.missing",
        `no metrics recorded yet: ${path} does not exist`,
        "metrics are recorded while the controller runs: start it with `baton up` (or check --state / $BATON_STATE)",
      );
    }
    const db = new Database(path, { timeout: BUSY_TIMEOUT_MS, fileMustExist: !create });
    try {
      db.pragma("journal_mode = WAL");
      // NORMAL in WAL mode: a power loss may drop the last seconds of samples, never corrupt.
      db.pragma("synchronous = NORMAL");
      ensureSchema(db, path);
      return new MetricsStore(db, path, retention, options.now ?? Date.now);
    } catch (err) {
      db.close();
      if (err instanceof MetricsError) throw err;
      if (isCorruption(err)) {
        throw new MetricsError(
          "metrics.corrupt",
          `${path} is not a readable metrics database (${(err as Error).message})`,
          `stop the controller and move ${path} away: Baton starts a new one (past metrics are lost, the state store is not affected)`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  close(): void {
    this.db.close();
  }

  /**
   * Records what a metric is. The kind decides how its minutes past the raw retention read
   * back (a gauge's average, a counter's last value); an undeclared name reads as a gauge.
   * Declaring again replaces the description.
   */
  declare(name: string, kind: SeriesKind, help: string, unit = ""): void {
    assertValidSeries(name, {});
    this.stmt.declare.run(name, kind, help, unit);
  }

  declaration(name: string): SeriesDeclaration | undefined {
    const row = this.stmt.declaration.get(name);
    return row && { name: row.name, kind: row.kind as SeriesKind, help: row.help, unit: row.unit };
  }

  /** Every declared metric, by name. */
  declarations(): SeriesDeclaration[] {
    return this.stmt.declarations.all().map((row) => ({
      name: row.name,
      kind: row.kind as SeriesKind,
      help: row.help,
      unit: row.unit,
    }));
  }

  /**
   * Writes a batch of samples in one transaction. A sample for a series and time already held
   * replaces it. Invalid input (a bad name, a non-integer time) rejects the whole batch.
   */
  append(samples: readonly NewSample[]): void {
    if (samples.length > 0) this.appendAll(samples);
  }

  /** Every series of the selector with its samples in [from, to], oldest first; series without any are left out. */
  select(selector: SeriesSelector, from: number, to: number): Series[] {
    const kind = this.declaration(selector.name)?.kind ?? "gauge";
    const boundary = this.compactedBefore();
    const out: Series[] = [];
    for (const { id, labels } of this.matching(selector)) {
      const old = this.bucketRange(id, from, Math.min(to, boundary - 1), kind);
      const raw = this.rawRange(id, Math.max(from, boundary), to);
      const samples = old.length === 0 ? raw : old.concat(raw);
      if (samples.length > 0) out.push({ name: selector.name, labels, samples });
    }
    return out;
  }

  /**
   * select() as parallel arrays of times and values rather than Sample objects: the same
   * samples, for readers of long ranges (a day is 86 400 samples, and allocating an object for
   * each costs more than reading them from SQLite).
   */
  selectColumns(selector: SeriesSelector, from: number, to: number): SeriesColumns[] {
    const kind = this.declaration(selector.name)?.kind ?? "gauge";
    const boundary = this.compactedBefore();
    const out: SeriesColumns[] = [];
    for (const { id, labels } of this.matching(selector)) {
      const parts: SampleColumns[] = [];
      const old = this.bucketRange(id, from, Math.min(to, boundary - 1), kind);
      if (old.length > 0) parts.push(samplesToColumns(old));
      const rawFrom = Math.max(from, boundary);
      if (rawFrom <= to) parts.push(this.rawColumns(id, rawFrom, to));
      const columns = concatColumns(parts);
      if (columns.at.length > 0) out.push({ name: selector.name, labels, ...columns });
    }
    return out;
  }

  /**
   * Every series of the selector summarised per minute over [from, to] (minutes by their
   * start): stored buckets past the raw retention, computed from raw samples before it. For
   * views that need more than select()'s one value a minute: maxima, counts, exact averages.
   */
  aggregates(selector: SeriesSelector, from: number, to: number): SeriesAggregates[] {
    const boundary = this.compactedBefore();
    const out: SeriesAggregates[] = [];
    for (const { id, labels } of this.matching(selector)) {
      const minutes = this.bucketRows(id, from, Math.min(to, boundary - 1));
      const rawFrom = Math.max(from, boundary);
      if (rawFrom <= to) {
        const before = minutes.at(-1)?.last;
        let previous = before === undefined || Number.isNaN(before) ? undefined : before;
        for (const [start, samples] of byMinute(this.rawRange(id, rawFrom, to))) {
          const minute = summarizeMinute(start, samples, previous);
          minutes.push(minute);
          if (!Number.isNaN(minute.last)) previous = minute.last;
        }
      }
      if (minutes.length > 0) out.push({ name: selector.name, labels, minutes });
    }
    return out;
  }

  /**
   * The newest sample of each series of the selector (what `GET /metrics` and `baton top`
   * show). A series whose raw samples are all past retention gives its last minute's last value.
   * A series whose newest sample is older than `since` (ms) is left out: a replica gone for an
   * hour is still stored, but no longer current.
   */
  latest(selector: SeriesSelector, since = Number.NEGATIVE_INFINITY): Series[] {
    const out: Series[] = [];
    for (const { id, labels } of this.matching(selector)) {
      const sample = this.newest(id);
      if (sample !== undefined && sample.at >= since) {
        out.push({ name: selector.name, labels, samples: [sample] });
      }
    }
    return out;
  }

  /** Every metric name that has a series or a declaration, sorted. */
  names(): string[] {
    return this.stmt.names.pluck().all();
  }

  /** The label sets of a metric's series, in the order they were first written. */
  seriesOf(name: string): Labels[] {
    return this.stmt.seriesByName.all(name).map((row) => this.labelsOf(row));
  }

  /**
   * Seals finished minutes into blobs, summarises raw data past the raw retention into
   * 1-minute buckets, deletes what is past the aggregate retention, forgets empty series.
   * One transaction: a reader sees the store before or after, never half-way.
   */
  compact(now = this.now()): CompactionReport {
    const sealBefore = bucketStart(now - SEAL_GRACE_MS);
    const boundary = Math.max(this.compactedBefore(), bucketStart(now - this.retention.rawMs));
    const expireBefore = bucketStart(now - this.retention.aggregatesMs);
    const report = this.db
      .transaction(() => {
        let sealed = 0;
        let downsampled = 0;
        let expired = 0;
        for (const id of this.stmt.allSeriesIds.pluck().all()) {
          sealed += this.seal(id, sealBefore);
          downsampled += this.downsample(id, boundary);
          expired += this.stmt.expireBuckets.run(id, expireBefore).changes;
          // Raw data that old can only be a late write below the boundary: it would never be read.
          expired += this.stmt.expireSamples.run(id, expireBefore).changes;
        }
        const forgottenSeries = this.stmt.forgetEmptySeries.run().changes;
        this.stmt.setCompactedBefore.run(boundary);
        return { sealed, downsampled, expired, forgottenSeries };
      })
      .immediate();
    if (report.forgottenSeries > 0) {
      this.ids.clear();
      this.labelsById.clear();
    }
    return report;
  }

  /** Raw samples before this time (ms) have been summarised into buckets. */
  compactedBefore(): number {
    return this.stmt.compactedBefore.pluck().get() as number;
  }

  private seriesId(name: string, labels: Labels): number {
    const canonical = canonicalLabels(labels);
    const key = `${name}\0${canonical}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      assertValidSeries(name, labels);
      id = this.stmt.intern.pluck().get(name, canonical) as number;
      this.ids.set(key, id);
    }
    return id;
  }

  private matching(selector: SeriesSelector): { id: number; labels: Labels }[] {
    const out: { id: number; labels: Labels }[] = [];
    for (const row of this.stmt.seriesByName.all(selector.name)) {
      const labels = this.labelsOf(row);
      if (matchesAll(labels, selector.matchers)) out.push({ id: row.id, labels });
    }
    return out;
  }

  private labelsOf(row: SeriesRow): Labels {
    let labels = this.labelsById.get(row.id);
    if (labels === undefined) {
      labels = Object.freeze(JSON.parse(row.labels) as Record<string, string>);
      this.labelsById.set(row.id, labels);
    }
    return labels;
  }

  private bucketRange(id: number, from: number, to: number, kind: SeriesKind): Sample[] {
    return bucketSamples(this.bucketRows(id, from, to), kind);
  }

  private bucketRows(id: number, from: number, to: number): MinuteBucket[] {
    if (to < from) return [];
    return (this.stmt.bucketRange.raw().all(id, from, to) as BucketRow[]).map(toBucket);
  }

  private rawRange(id: number, from: number, to: number): Sample[] {
    if (to < from) return [];
    return columnsToSamples(this.rawColumns(id, from, to));
  }

  /**
   * Raw samples when unsealed rows overlap sealed minutes (late writes, rewrites): merged one
   * by one, a row winning over a sealed sample of the same time.
   */
  private rawRangeMerged(id: number, from: number, to: number): Sample[] {
    const sealed: Sample[] = [];
    for (const blob of this.stmt.blockRange.pluck().all(id, bucketStart(from), to) as Buffer[]) {
      decodeBlockInto(blob, from, to, sealed);
    }
    const open = this.stmt.sampleRange.raw().all(id, from, to) as [number, number | null][];
    return mergeSamples(sealed, open.map(toSample));
  }

  private rawColumns(id: number, from: number, to: number): SampleColumns {
    const blobs = this.stmt.blockRange.pluck().all(id, bucketStart(from), to) as Buffer[];
    const open = this.stmt.sampleRange.raw().all(id, from, to) as [number, number | null][];
    let room = open.length;
    for (const blob of blobs) room += blob.length / 16;
    const columns = { at: new Float64Array(room), value: new Float64Array(room) };
    let k = 0;
    for (const blob of blobs) k = copyBlockInto(blob, from, to, columns, k);
    const firstOpen = open[0];
    if (firstOpen !== undefined && k > 0 && firstOpen[0] <= (columns.at[k - 1] as number)) {
      // Late writes into sealed minutes (rare): the slower merge.
      return samplesToColumns(this.rawRangeMerged(id, from, to));
    }
    for (const [at, value] of open) {
      columns.at[k] = at;
      columns.value[k++] = value ?? Number.NaN;
    }
    return { at: columns.at.subarray(0, k), value: columns.value.subarray(0, k) };
  }

  private newest(id: number): Sample | undefined {
    const row = this.stmt.newestSample.raw().get(id) as [number, number | null] | undefined;
    const open = row && toSample(row);
    const blob = this.stmt.newestBlock.pluck().get(id) as Buffer | undefined;
    const sealed = blob && lastOfBlock(blob);
    if (open !== undefined || sealed !== undefined) {
      if (open === undefined) return sealed;
      if (sealed === undefined) return open;
      return open.at >= sealed.at ? open : sealed;
    }
    const bucket = this.stmt.newestBucket.raw().get(id) as [number, number | null] | undefined;
    return bucket && toSample(bucket);
  }

  /** Moves the series' raw rows before `before` into one blob per minute. */
  private seal(id: number, before: number): number {
    const rows = (this.stmt.samplesBefore.raw().all(id, before) as [number, number | null][]).map(
      toSample,
    );
    if (rows.length === 0) return 0;
    for (const [start, minute] of byMinute(rows)) {
      const existing = this.stmt.block.pluck().get(id, start) as Buffer | undefined;
      const samples = existing === undefined ? minute : mergeSamples(decodeBlock(existing), minute);
      this.stmt.putBlock.run(id, start, encodeBlock(samples));
    }
    this.stmt.deleteSamplesBefore.run(id, before);
    return rows.length;
  }

  /** Summarises the series' sealed minutes before `boundary` into buckets. */
  private downsample(id: number, boundary: number): number {
    const blocks = this.stmt.blocksBefore.raw().all(id, boundary) as [number, Buffer][];
    const first = blocks[0];
    if (first === undefined) return 0;
    const before = this.stmt.lastBefore.pluck().get(id, first[0]) as number | null | undefined;
    let previous = before === undefined || before === null ? undefined : before;
    for (const [start, blob] of blocks) {
      const fresh = summarizeMinute(start, decodeBlock(blob), previous);
      const row = this.stmt.bucket.raw().get(id, start) as BucketRow | undefined;
      const bucket = row === undefined ? fresh : mergeMinute(toBucket(row), fresh);
      this.stmt.putBucket.run(
        id,
        start,
        bucket.min,
        bucket.max,
        bucket.sum,
        bucket.count,
        bucket.last,
        bucket.increase,
        bucket.reset ? 1 : 0,
      );
      if (!Number.isNaN(bucket.last)) previous = bucket.last;
    }
    this.stmt.deleteBlocksBefore.run(id, boundary);
    return blocks.length;
  }
}

function byMinute(samples: readonly Sample[]): Map<number, Sample[]> {
  const minutes = new Map<number, Sample[]>();
  for (const s of samples) {
    const start = bucketStart(s.at);
    let minute = minutes.get(start);
    if (minute === undefined) {
      minute = [];
      minutes.set(start, minute);
    }
    minute.push(s);
  }
  return minutes;
}

function toSample(row: readonly [number, number | null]): Sample {
  return { at: row[0], value: row[1] ?? Number.NaN };
}

function toBucket(row: BucketRow): MinuteBucket {
  return {
    start: row[0],
    min: row[1] ?? Number.NaN,
    max: row[2] ?? Number.NaN,
    sum: row[3] ?? Number.NaN,
    count: row[4],
    last: row[5] ?? Number.NaN,
    increase: row[6],
    reset: row[7] === 1,
  };
}

function assertValidSample(s: NewSample): void {
  if (!Number.isSafeInteger(s.at) || s.at < 0) {
    throw new MetricsError(
      "metrics.invalid_sample",
      `sample of ${s.name} has time ${String(s.at)}, not a whole number of ms since the epoch`,
      "pass Date.now() (or Math.round of a time in ms)",
    );
  }
  if (typeof s.value !== "number") {
    throw new MetricsError(
      "metrics.invalid_sample",
      `sample of ${s.name} has a ${typeof s.value} value`,
      "values are numbers (NaN and ±Infinity are allowed)",
    );
  }
}

function validRetention(r: MetricsRetention): MetricsRetention {
  for (const [field, value] of Object.entries(r)) {
    if (!Number.isFinite(value) || value < BUCKET_MS) {
      throw new MetricsError(
        "metrics.invalid_retention",
        `metrics retention ${field} is ${String(value)} ms`,
        `give at least ${BUCKET_MS} ms (one minute)`,
      );
    }
  }
  if (r.aggregatesMs < r.rawMs) {
    throw new MetricsError(
      "metrics.invalid_retention",
      `metrics retention for 1-minute aggregates (${r.aggregatesMs} ms) is shorter than for raw samples (${r.rawMs} ms)`,
      "keep aggregates at least as long as raw samples",
    );
  }
  return r;
}

function isCorruption(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === "SQLITE_CORRUPT" || code === "SQLITE_NOTADB";
}

function prepareStatements(db: BetterSqlite3.Database) {
  return {
    declare: db.prepare<[string, string, string, string]>(
      `INSERT INTO metrics (name, kind, help, unit) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, help = excluded.help, unit = excluded.unit`,
    ),
    declaration: db.prepare<[string], { name: string; kind: string; help: string; unit: string }>(
      "SELECT name, kind, help, unit FROM metrics WHERE name = ?",
    ),
    declarations: db.prepare<[], { name: string; kind: string; help: string; unit: string }>(
      "SELECT name, kind, help, unit FROM metrics ORDER BY name",
    ),
    names: db.prepare<[], string>(
      "SELECT name FROM metrics UNION SELECT DISTINCT name FROM series ORDER BY 1",
    ),
    // DO UPDATE (a no-op) rather than DO NOTHING so RETURNING gives the id of an existing row.
    intern: db.prepare<[string, string], number>(
      `INSERT INTO series (name, labels) VALUES (?, ?)
       ON CONFLICT (name, labels) DO UPDATE SET name = excluded.name RETURNING id`,
    ),
    seriesByName: db.prepare<[string], SeriesRow>(
      "SELECT id, labels FROM series WHERE name = ? ORDER BY id",
    ),
    allSeriesIds: db.prepare<[], number>("SELECT id FROM series ORDER BY id"),
    insertSample: db.prepare<[number, number, number]>(
      `INSERT INTO samples (series, at, value) VALUES (?, ?, ?)
       ON CONFLICT (series, at) DO UPDATE SET value = excluded.value`,
    ),
    sampleRange: db.prepare<[number, number, number]>(
      "SELECT at, value FROM samples WHERE series = ? AND at >= ? AND at <= ? ORDER BY at",
    ),
    samplesBefore: db.prepare<[number, number]>(
      "SELECT at, value FROM samples WHERE series = ? AND at < ? ORDER BY at",
    ),
    deleteSamplesBefore: db.prepare<[number, number]>(
      "DELETE FROM samples WHERE series = ? AND at < ?",
    ),
    newestSample: db.prepare<[number]>(
      "SELECT at, value FROM samples WHERE series = ? ORDER BY at DESC LIMIT 1",
    ),
    block: db.prepare<[number, number]>("SELECT data FROM blocks WHERE series = ? AND start = ?"),
    putBlock: db.prepare<[number, number, Buffer]>(
      `INSERT INTO blocks (series, start, data) VALUES (?, ?, ?)
       ON CONFLICT (series, start) DO UPDATE SET data = excluded.data`,
    ),
    blockRange: db.prepare<[number, number, number]>(
      "SELECT data FROM blocks WHERE series = ? AND start >= ? AND start <= ? ORDER BY start",
    ),
    blocksBefore: db.prepare<[number, number]>(
      "SELECT start, data FROM blocks WHERE series = ? AND start < ? ORDER BY start",
    ),
    deleteBlocksBefore: db.prepare<[number, number]>(
      "DELETE FROM blocks WHERE series = ? AND start < ?",
    ),
    newestBlock: db.prepare<[number]>(
      "SELECT data FROM blocks WHERE series = ? ORDER BY start DESC LIMIT 1",
    ),
    bucket: db.prepare<[number, number]>(
      `SELECT start, min, max, sum, count, last, increase, reset FROM buckets
       WHERE series = ? AND start = ?`,
    ),
    putBucket: db.prepare<[number, number, number, number, number, number, number, number, number]>(
      `INSERT INTO buckets (series, start, min, max, sum, count, last, increase, reset)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (series, start) DO UPDATE SET min = excluded.min, max = excluded.max,
         sum = excluded.sum, count = excluded.count, last = excluded.last,
         increase = excluded.increase, reset = excluded.reset`,
    ),
    bucketRange: db.prepare<[number, number, number]>(
      `SELECT start, min, max, sum, count, last, increase, reset FROM buckets
       WHERE series = ? AND start >= ? AND start <= ? ORDER BY start`,
    ),
    lastBefore: db.prepare<[number, number], number | null>(
      "SELECT last FROM buckets WHERE series = ? AND start < ? ORDER BY start DESC LIMIT 1",
    ),
    newestBucket: db.prepare<[number]>(
      "SELECT start, last FROM buckets WHERE series = ? ORDER BY start DESC LIMIT 1",
    ),
    expireBuckets: db.prepare<[number, number]>(
      "DELETE FROM buckets WHERE series = ? AND start < ?",
    ),
    expireSamples: db.prepare<[number, number]>("DELETE FROM samples WHERE series = ? AND at < ?"),
    forgetEmptySeries: db.prepare(
      `DELETE FROM series WHERE
         NOT EXISTS (SELECT 1 FROM samples WHERE samples.series = series.id) AND
         NOT EXISTS (SELECT 1 FROM blocks WHERE blocks.series = series.id) AND
         NOT EXISTS (SELECT 1 FROM buckets WHERE buckets.series = series.id)`,
    ),
    compactedBefore: db.prepare<[], number>(
      "SELECT value FROM meta WHERE key = 'compacted_before'",
    ),
    setCompactedBefore: db.prepare<[number]>(
      "UPDATE meta SET value = ? WHERE key = 'compacted_before'",
    ),
  };
}
