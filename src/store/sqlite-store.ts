import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import Database from "better-sqlite3";
import type { DefinitionContent } from "../definition/index.js";
import { AlertStore } from "./alert-store.js";
import { AuditStore } from "./audit-store.js";
import { StateError } from "./errors.js";
import { HostStore } from "./host-store.js";
import { MIGRATIONS, migrate } from "./migrations.js";
import { ReleaseStore } from "./release-store.js";
import { RolloutStore } from "./rollout-store.js";
import { RunStore } from "./run-store.js";
import type {
  ControllerRecord,
  EventQuery,
  EventRecord,
  GenerationRecord,
  NewEvent,
  ReplicaRecord,
  ReplicaState,
} from "./store.js";
import { TokenStore } from "./token-store.js";

export interface OpenOptions {
  /** Create the directory and the database when absent (`apply`, `up`); read commands pass false. */
  readonly create: boolean;
  /** Clock for default timestamps; tests inject one. */
  readonly now?: () => number;
}

export type ReplicaPatch = Partial<
  Pick<ReplicaRecord, "state" | "restarts" | "pid" | "startTicks" | "port">
>;

export type ClaimResult = { ok: true } | { ok: false; holder: ControllerRecord };

const DB_FILE = "state.db";
/** CLI and controller write the same file; a writer waits this long for the other's lock. */
const BUSY_TIMEOUT_MS = 5000;
const SQLITE_HEADER = Buffer.from("SQLite format 3\0", "latin1");

interface RevisionRow {
  id: number;
  hash: string;
  file: string;
  source: string;
  applied_by: string;
  applied_at: number;
  environment: string | null;
  content: string | null;
}
interface ReplicaRow {
  id: string;
  app: string;
  revision: string;
  runtime: string;
  pid: number | null;
  start_ticks: number | null;
  port: number;
  started_at: number;
  state: string;
  restarts: number;
}
interface EventRow {
  id: number;
  at: number;
  type: string;
  app: string | null;
  replica: string | null;
  message: string;
  data: string;
}
interface ControllerRow {
  pid: number;
  start_ticks: number;
  api: string;
  started_at: number;
}
interface EventParams {
  afterId: number;
  since: number;
  limit: number;
}
type Params = Record<string, string | number | null>;

const REVISION_COLUMNS = "id, hash, file, source, applied_by, applied_at, environment, content";
const REPLICA_COLUMNS =
  "id, app, revision, runtime, pid, start_ticks, port, started_at, state, restarts";
const EVENT_COLUMNS = "id, at, type, app, replica, message, data";

/**
 * The state store on one SQLite file per state directory. WAL lets the CLI read while the
 * controller writes; every write that reads first runs in an IMMEDIATE transaction so two
 * processes never both read a stale value and then both write.
 */
export class SqliteStore {
  readonly path: string;
  /** Rollouts, their journal, app revision specs and rollback pins. */
  readonly rollouts: RolloutStore;
  /** Releases of built apps and the release each app is deployed at. */
  readonly releases: ReleaseStore;
  /** What was applied to each host, and its last facts. */
  readonly hosts: HostStore;
  /** Pipeline runs and their steps. */
  readonly runs: RunStore;
  /** Alert history and silences. */
  readonly alerts: AlertStore;
  /** API tokens (hashed) and the append-only audit log. */
  readonly tokens: TokenStore;
  readonly audit: AuditStore;
  private readonly db: BetterSqlite3.Database;
  private readonly now: () => number;
  private readonly stmt: ReturnType<typeof prepareStatements>;
  private readonly runImmediate: BetterSqlite3.Transaction<(fn: () => unknown) => unknown>;

  private constructor(db: BetterSqlite3.Database, path: string, now: () => number) {
    this.db = db;
    this.path = path;
    this.now = now;
    this.stmt = prepareStatements(db);
    this.rollouts = new RolloutStore(db, now);
    this.releases = new ReleaseStore(db, now);
    this.hosts = new HostStore(db, now);
    this.runs = new RunStore(db, now);
    this.alerts = new AlertStore(db);
    this.tokens = new TokenStore(db, now);
    this.audit = new AuditStore(db, now);
    this.runImmediate = db.transaction((fn: () => unknown) => fn());
  }

  /**
   * Opens `<stateDir>/state.db`, migrating it to this build's schema. A damaged file is
   * reported, never replaced: it may be the only record of what runs where.
   */
  static open(stateDir: string, options: OpenOptions): SqliteStore {
    const path = join(stateDir, DB_FILE);
    const now = options.now ?? Date.now;
    if (options.create) {
      // 0700: the state holds the definition source, which may name secret references.
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      // SQLite creates the file (and its -wal, -shm, which take its mode) 0644 otherwise.
      closeSync(openSync(path, "a", 0o600));
    } else if (!existsSync(path) || statSync(path).size === 0) {
      // An empty file is what a crash between creating and migrating leaves: no state yet.
      throw missing(path);
    }
    // Checked before SQLite touches the file, so a stranger's file is left byte for byte.
    assertSqliteHeader(path);

    let db: BetterSqlite3.Database;
    try {
      db = new Database(path, { fileMustExist: !options.create, timeout: BUSY_TIMEOUT_MS });
    } catch (err) {
      if (!options.create && sqliteCode(err) === "SQLITE_CANTOPEN") throw missing(path);
      throw err;
    }
    try {
      // Before any write: a damaged database must not be made worse by a migration.
      const check = db.pragma("quick_check", { simple: true });
      if (check !== "ok") throw corrupt(path, String(check));
      db.pragma("journal_mode = WAL");
      // NORMAL in WAL mode: a power loss may drop the last commits, never corrupt the file.
      db.pragma("synchronous = NORMAL");
      db.pragma("foreign_keys = ON");
      migrate(db, path, MIGRATIONS, now);
      return new SqliteStore(db, path, now);
    } catch (err) {
      db.close();
      if (err instanceof StateError) throw err;
      if (isCorruption(err)) throw corrupt(path, err.message, err);
      throw err;
    }
  }

  schemaVersion(): number {
    return this.stmt.schemaVersion.get()?.v ?? 0;
  }

  /**
   * Records an applied definition. Applying the same text twice is not a new generation, so
   * history shows changes, not every `apply`.
   */
  recordGeneration(r: {
    hash: string;
    file: string;
    source: string;
    appliedBy: string;
    appliedAt?: number;
    environment?: string;
    content?: DefinitionContent;
  }): { record: GenerationRecord; created: boolean } {
    const environment = r.environment ?? null;
    const content = r.content === undefined ? null : contentJson(r.content);
    return this.transaction(() => {
      const latest = this.latestGeneration();
      // The same text over other files (an app's folder edited) is another generation: a
      // controller started again must read the definition back with the files it last had.
      if (
        latest &&
        latest.hash === r.hash &&
        latest.environment === environment &&
        (latest.content === null ? null : contentJson(latest.content)) === content
      ) {
        return { record: latest, created: false };
      }
      const appliedAt = r.appliedAt ?? this.now();
      const result = this.stmt.insertRevision.run({
        hash: r.hash,
        file: r.file,
        source: r.source,
        appliedBy: r.appliedBy,
        appliedAt,
        environment,
        content,
      });
      const record: GenerationRecord = {
        id: Number(result.lastInsertRowid),
        hash: r.hash,
        file: r.file,
        source: r.source,
        appliedBy: r.appliedBy,
        appliedAt,
        environment,
        content: r.content ?? null,
      };
      return { record, created: true };
    });
  }

  latestGeneration(): GenerationRecord | undefined {
    const row = this.stmt.latestRevision.get();
    return row && toRevision(row);
  }

  /** Newest first; all of them without a limit. */
  generations(limit?: number): GenerationRecord[] {
    return this.stmt.revisions.all({ limit: sqlLimit(limit) }).map(toRevision);
  }

  generation(id: number): GenerationRecord | undefined {
    const row = this.stmt.revision.get({ id });
    return row && toRevision(row);
  }

  /** Inserts or replaces the whole record. */
  putReplica(r: ReplicaRecord): void {
    this.stmt.putReplica.run({
      id: r.id,
      app: r.app,
      revision: r.revision,
      runtime: r.runtime,
      pid: r.pid,
      startTicks: r.startTicks,
      port: r.port,
      startedAt: r.startedAt,
      state: r.state,
      restarts: r.restarts,
    });
  }

  /**
   * Changes only the fields given (`pid: null` clears the pid). A replica already removed
   * is left removed: a late exit notice for it is not an error.
   */
  updateReplica(id: string, patch: ReplicaPatch): void {
    // One statement for every patch shape: each column is set only when its flag is 1.
    this.stmt.updateReplica.run({
      id,
      setState: flag(patch.state),
      state: patch.state ?? null,
      setRestarts: flag(patch.restarts),
      restarts: patch.restarts ?? null,
      setPid: flag(patch.pid),
      pid: patch.pid ?? null,
      setStartTicks: flag(patch.startTicks),
      startTicks: patch.startTicks ?? null,
      setPort: flag(patch.port),
      port: patch.port ?? null,
    });
  }

  removeReplica(id: string): void {
    this.stmt.removeReplica.run({ id });
  }

  /** Ordered by app, then start time. */
  replicas(app?: string): ReplicaRecord[] {
    const rows =
      app === undefined ? this.stmt.allReplicas.all() : this.stmt.appReplicas.all({ app });
    return rows.map(toReplica);
  }

  appendEvent(e: NewEvent): EventRecord {
    const data = JSON.stringify(e.data ?? {});
    const at = e.at ?? this.now();
    const result = this.stmt.insertEvent.run({
      at,
      type: e.type,
      app: e.app ?? null,
      replica: e.replica ?? null,
      message: e.message,
      data,
    });
    return {
      id: Number(result.lastInsertRowid),
      at,
      type: e.type,
      app: e.app ?? null,
      replica: e.replica ?? null,
      message: e.message,
      // What was stored, not the caller's object: the same value a later read returns.
      data: parseData(data),
    };
  }

  /** Ascending by id. With `limit`, the newest `limit` matching events (still ascending). */
  events(q: EventQuery): EventRecord[] {
    const params: EventParams = {
      afterId: q.afterId ?? 0,
      since: q.sinceMs ?? Number.MIN_SAFE_INTEGER,
      limit: sqlLimit(q.limit),
    };
    const rows =
      q.app === undefined
        ? this.stmt.events.all(params)
        : this.stmt.appEvents.all({ ...params, app: q.app });
    // Selected newest first so LIMIT keeps the newest; handed back oldest first.
    return rows.reverse().map(toEvent);
  }

  scaleOverride(app: string): { replicas: number; baseReplicas: number } | undefined {
    const row = this.stmt.scaleOverride.get({ app });
    return row && { replicas: row.replicas, baseReplicas: row.base_replicas };
  }

  setScaleOverride(app: string, replicas: number, baseReplicas: number): void {
    this.stmt.setScaleOverride.run({ app, replicas, baseReplicas });
  }

  clearScaleOverride(app: string): void {
    this.stmt.clearScaleOverride.run({ app });
  }

  controller(): ControllerRecord | undefined {
    const row = this.stmt.controller.get();
    return row && toController(row);
  }

  /**
   * Takes the controller lease when nobody holds it or the holder is dead. Check and take
   * happen under one write lock, so of two controllers starting together exactly one wins.
   * `isAlive` runs inside that lock: it must be quick and synchronous. Re-claiming a
   * lease this very process (same pid and start ticks) holds succeeds.
   */
  claimController(
    rec: ControllerRecord,
    isAlive: (holder: ControllerRecord) => boolean,
  ): ClaimResult {
    return this.transaction((): ClaimResult => {
      const holder = this.controller();
      const ours =
        holder !== undefined && holder.pid === rec.pid && holder.startTicks === rec.startTicks;
      if (holder && !ours && isAlive(holder)) return { ok: false, holder };
      this.stmt.putController.run({
        pid: rec.pid,
        startTicks: rec.startTicks,
        api: rec.api,
        startedAt: rec.startedAt,
      });
      return { ok: true };
    });
  }

  /** Gives the lease up if `pid` holds it; a lease already taken over stays with its taker. */
  releaseController(pid: number): void {
    this.stmt.releaseController.run({ pid });
  }

  /**
   * Runs `fn` atomically: all its writes or none. IMMEDIATE, so a read-then-write inside
   * cannot fail half-way on another process's lock; nested calls become savepoints.
   * `fn` must be synchronous.
   */
  transaction<T>(fn: () => T): T {
    return this.runImmediate.immediate(fn) as T;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function prepareStatements(db: BetterSqlite3.Database) {
  return {
    schemaVersion: db.prepare<[], { v: number | null }>(
      "SELECT max(id) AS v FROM schema_migrations",
    ),
    insertRevision: db.prepare<Params>(
      `INSERT INTO revisions (hash, file, source, applied_by, applied_at, environment, content)
       VALUES (@hash, @file, @source, @appliedBy, @appliedAt, @environment, @content)`,
    ),
    latestRevision: db.prepare<[], RevisionRow>(
      `SELECT ${REVISION_COLUMNS} FROM revisions ORDER BY id DESC LIMIT 1`,
    ),
    revisions: db.prepare<Params, RevisionRow>(
      `SELECT ${REVISION_COLUMNS} FROM revisions ORDER BY id DESC LIMIT @limit`,
    ),
    revision: db.prepare<Params, RevisionRow>(
      `SELECT ${REVISION_COLUMNS} FROM revisions WHERE id = @id`,
    ),
    putReplica: db.prepare<Params>(
      `INSERT INTO replicas (${REPLICA_COLUMNS})
       VALUES (@id, @app, @revision, @runtime, @pid, @startTicks, @port, @startedAt, @state, @restarts)
       ON CONFLICT (id) DO UPDATE SET
         app = excluded.app, revision = excluded.revision, runtime = excluded.runtime,
         pid = excluded.pid, start_ticks = excluded.start_ticks, port = excluded.port,
         started_at = excluded.started_at, state = excluded.state, restarts = excluded.restarts`,
    ),
    updateReplica: db.prepare<Params>(
      `UPDATE replicas SET
         state       = CASE WHEN @setState      THEN @state      ELSE state       END,
         restarts    = CASE WHEN @setRestarts   THEN @restarts   ELSE restarts    END,
         pid         = CASE WHEN @setPid        THEN @pid        ELSE pid         END,
         start_ticks = CASE WHEN @setStartTicks THEN @startTicks ELSE start_ticks END,
         port        = CASE WHEN @setPort       THEN @port       ELSE port        END
       WHERE id = @id`,
    ),
    removeReplica: db.prepare<Params>("DELETE FROM replicas WHERE id = @id"),
    allReplicas: db.prepare<[], ReplicaRow>(
      `SELECT ${REPLICA_COLUMNS} FROM replicas ORDER BY app, started_at, id`,
    ),
    appReplicas: db.prepare<Params, ReplicaRow>(
      `SELECT ${REPLICA_COLUMNS} FROM replicas WHERE app = @app ORDER BY started_at, id`,
    ),
    insertEvent: db.prepare<Params>(
      `INSERT INTO events (at, type, app, replica, message, data)
       VALUES (@at, @type, @app, @replica, @message, @data)`,
    ),
    // Two statements rather than `(@app IS NULL OR app = @app)`, which would keep SQLite
    // from using the (app, id) index.
    events: db.prepare<EventParams, EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE id > @afterId AND at >= @since ORDER BY id DESC LIMIT @limit`,
    ),
    appEvents: db.prepare<EventParams & { app: string }, EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE app = @app AND id > @afterId AND at >= @since ORDER BY id DESC LIMIT @limit`,
    ),
    scaleOverride: db.prepare<Params, { replicas: number; base_replicas: number }>(
      "SELECT replicas, base_replicas FROM scale_overrides WHERE app = @app",
    ),
    setScaleOverride: db.prepare<Params>(
      `INSERT INTO scale_overrides (app, replicas, base_replicas) VALUES (@app, @replicas, @baseReplicas)
       ON CONFLICT (app) DO UPDATE SET replicas = excluded.replicas, base_replicas = excluded.base_replicas`,
    ),
    clearScaleOverride: db.prepare<Params>("DELETE FROM scale_overrides WHERE app = @app"),
    controller: db.prepare<[], ControllerRow>(
      "SELECT pid, start_ticks, api, started_at FROM controller WHERE id = 1",
    ),
    putController: db.prepare<Params>(
      `INSERT INTO controller (id, pid, start_ticks, api, started_at)
       VALUES (1, @pid, @startTicks, @api, @startedAt)
       ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, start_ticks = excluded.start_ticks,
         api = excluded.api, started_at = excluded.started_at`,
    ),
    releaseController: db.prepare<Params>("DELETE FROM controller WHERE pid = @pid"),
  };
}

function toRevision(row: RevisionRow): GenerationRecord {
  return {
    id: row.id,
    hash: row.hash,
    file: row.file,
    source: row.source,
    appliedBy: row.applied_by,
    appliedAt: row.applied_at,
    environment: row.environment,
    content: row.content === null ? null : (JSON.parse(row.content) as DefinitionContent),
  };
}

/** The same content always gives the same JSON: paths in order, whatever order they came in. */
function contentJson(content: DefinitionContent): string {
  const sorted = (map: Readonly<Record<string, string>>) =>
    Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return JSON.stringify({
    folders: sorted(content.folders),
    files: sorted(content.files),
    ...(content.inRepository === undefined ? {} : { inRepository: content.inRepository }),
  });
}

function toReplica(row: ReplicaRow): ReplicaRecord {
  return {
    id: row.id,
    app: row.app,
    revision: row.revision,
    runtime: row.runtime,
    pid: row.pid,
    startTicks: row.start_ticks,
    port: row.port,
    startedAt: row.started_at,
    // The column's CHECK constraint admits only ReplicaState values.
    state: row.state as ReplicaState,
    restarts: row.restarts,
  };
}

function toEvent(row: EventRow): EventRecord {
  return {
    id: row.id,
    at: row.at,
    type: row.type,
    app: row.app,
    replica: row.replica,
    message: row.message,
    data: parseData(row.data),
  };
}

function toController(row: ControllerRow): ControllerRecord {
  return { pid: row.pid, startTicks: row.start_ticks, api: row.api, startedAt: row.started_at };
}

function parseData(json: string): Readonly<Record<string, unknown>> {
  // Only this store writes the column, always from an object.
  return JSON.parse(json) as Record<string, unknown>;
}

function flag(value: unknown): number {
  return value === undefined ? 0 : 1;
}

/** SQLite reads a negative LIMIT as "no limit". */
function sqlLimit(limit: number | undefined): number {
  if (limit === undefined) return -1;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new RangeError(`limit must be a whole number ≥ 0, got ${limit}`);
  }
  return limit;
}

function assertSqliteHeader(path: string): void {
  if (!existsSync(path)) return;
  const header = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(path, "r");
  let read: number;
  try {
    read = readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  // An empty file is a valid empty database to SQLite; anything else must carry the magic.
  if (read === 0) return;
  if (read < header.length || !header.equals(SQLITE_HEADER)) {
    throw corrupt(path, "not a SQLite database");
  }
}

function sqliteCode(err: unknown): string | undefined {
  return err instanceof Database.SqliteError ? err.code : undefined;
}

function isCorruption(err: unknown): err is Error {
  const code = sqliteCode(err);
  return code !== undefined && (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB");
}

function missing(path: string): StateError {
  return new StateError(
    "state.missing",
    `no Baton state at ${path}`,
    "apply a definition first (`baton apply`), or point Baton at the state directory that holds it",
  );
}

function corrupt(path: string, detail: string, cause?: unknown): StateError {
  return new StateError(
    "state.corrupt",
    `${path} is damaged or is not a Baton state database: ${detail}`,
    `Baton will not recreate it. Restore ${path} from a backup, or move it aside ` +
      "(with its -wal and -shm files) to start again from empty state",
    { cause },
  );
}
