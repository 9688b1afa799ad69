import type BetterSqlite3 from "better-sqlite3";
import { MetricsError } from "./errors.js";

/** Bumped by each change to the tables below; a newer file is refused, never rewritten. */
export const METRICS_SCHEMA_VERSION = 1;

/**
 * Three tiers, all keyed (series, time) WITHOUT ROWID so one series' range is one contiguous
 * stretch of one B-tree:
 * - `samples`: every append lands here, one row a sample (cheap to insert, durable at once);
 * - `blocks`: finished minutes of raw samples, sealed by compact() into one blob per series
 *   and minute, which is what a day's query reads (1 440 blobs rather than 86 400 rows);
 * - `buckets`: minutes past the raw retention, summarised (min, max, sum, count, last,
 *   counter increase), kept for the aggregate retention.
 * `meta.compacted_before` is the raw/bucket boundary: below it readers take buckets.
 */
const SCHEMA = `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE metrics (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('gauge', 'counter')),
    help TEXT NOT NULL,
    unit TEXT NOT NULL
  ) STRICT;

  -- AUTOINCREMENT: an id is never given to another series after one is forgotten, so a
  -- reader's cache of id → labels never goes wrong.
  CREATE TABLE series (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    name   TEXT NOT NULL,
    labels TEXT NOT NULL,
    UNIQUE (name, labels)
  ) STRICT;

  -- value NULL is NaN: SQLite stores a NaN REAL as NULL.
  CREATE TABLE samples (
    series INTEGER NOT NULL,
    at     INTEGER NOT NULL,
    value  REAL,
    PRIMARY KEY (series, at)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE blocks (
    series INTEGER NOT NULL,
    start  INTEGER NOT NULL,
    data   BLOB NOT NULL,
    PRIMARY KEY (series, start)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE buckets (
    series   INTEGER NOT NULL,
    start    INTEGER NOT NULL,
    min      REAL,
    max      REAL,
    sum      REAL,
    count    INTEGER NOT NULL,
    last     REAL,
    increase REAL NOT NULL,
    reset    INTEGER NOT NULL,
    PRIMARY KEY (series, start)
  ) STRICT, WITHOUT ROWID;

  INSERT INTO meta (key, value) VALUES ('compacted_before', 0);
`;

/** Creates the tables in a new file; refuses a file written by a newer Baton. */
export function ensureSchema(db: BetterSqlite3.Database, path: string): void {
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version === METRICS_SCHEMA_VERSION) return;
  if (version > METRICS_SCHEMA_VERSION) {
    throw new MetricsError(
      "metrics.too_new",
      `${path} has metrics schema version ${version}; this Baton knows up to ${METRICS_SCHEMA_VERSION}`,
      "run the Baton version that wrote it (or a newer one), or move the file away to start metrics afresh",
    );
  }
  db.transaction(() => {
    // Another process may have created the tables while this one waited for the lock.
    if ((db.pragma("user_version", { simple: true }) as number) !== 0) return;
    db.exec(SCHEMA);
    db.pragma(`user_version = ${METRICS_SCHEMA_VERSION}`);
  }).immediate();
}
