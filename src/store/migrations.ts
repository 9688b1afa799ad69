import type BetterSqlite3 from "better-sqlite3";
import { StateError } from "./errors.js";

/**
 * The schema's history. A migration is never edited once released: a change to the
 * schema is a new entry appended with the next id, so every database, whatever build
 * wrote it, reaches the same schema by replaying the ids it has not seen.
 */
export interface Migration {
  /** 1, 2, 3… in order, without gaps: the schema version after it is applied. */
  readonly id: number;
  readonly name: string;
  readonly up: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "initial schema",
    up: `
      -- Every applied definition. AUTOINCREMENT so an id is never handed out twice, even
      -- after rows are pruned: a revision id is what users roll back to.
      CREATE TABLE revisions (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        hash       TEXT    NOT NULL,
        file       TEXT    NOT NULL,
        source     TEXT    NOT NULL,
        applied_by TEXT    NOT NULL,
        applied_at INTEGER NOT NULL
      ) STRICT;

      -- What runs now, so a restarted controller adopts instead of duplicating.
      CREATE TABLE replicas (
        id          TEXT    PRIMARY KEY,
        app         TEXT    NOT NULL,
        revision    TEXT    NOT NULL,
        runtime     TEXT    NOT NULL,
        pid         INTEGER,
        start_ticks INTEGER,
        port        INTEGER NOT NULL,
        started_at  INTEGER NOT NULL,
        state       TEXT    NOT NULL
          CHECK (state IN ('starting', 'running', 'ready', 'draining', 'stopping', 'exited')),
        restarts    INTEGER NOT NULL DEFAULT 0 CHECK (restarts >= 0)
      ) STRICT;
      CREATE INDEX replicas_by_app ON replicas (app, started_at);

      -- The audit trail and the feed the API streams from. AUTOINCREMENT: a client
      -- resumes from the last id it saw, so ids must never be reused.
      CREATE TABLE events (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        at      INTEGER NOT NULL,
        type    TEXT    NOT NULL,
        app     TEXT,
        replica TEXT,
        message TEXT    NOT NULL,
        data    TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(data))
      ) STRICT;
      CREATE INDEX events_by_app ON events (app, id);
      CREATE INDEX events_by_time ON events (at);

      -- Append-only: history that can be rewritten is not an audit trail. A later
      -- retention migration may replace events_no_delete with a trigger that lets
      -- old rows go (e.g. WHEN OLD.at < a cutoff); updates stay forbidden.
      CREATE TRIGGER events_no_update BEFORE UPDATE ON events
      BEGIN
        SELECT RAISE(ABORT, 'events are append-only: UPDATE is not allowed');
      END;
      CREATE TRIGGER events_no_delete BEFORE DELETE ON events
      BEGIN
        SELECT RAISE(ABORT, 'events are append-only: DELETE is not allowed');
      END;

      -- \`baton scale\` outlives the next apply until cleared; base_replicas is what
      -- the definition said when the override was made, to tell it apart from an edit.
      CREATE TABLE scale_overrides (
        app           TEXT    PRIMARY KEY,
        replicas      INTEGER NOT NULL CHECK (replicas >= 0),
        base_replicas INTEGER NOT NULL CHECK (base_replicas >= 0)
      ) STRICT;

      -- The controller lease: one row at most, enforced by the key.
      CREATE TABLE controller (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        pid         INTEGER NOT NULL,
        start_ticks INTEGER NOT NULL,
        api         TEXT    NOT NULL,
        started_at  INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    id: 2,
    name: "rollouts",
    up: `
      -- What each revision of an app is made of, so a restarted controller can roll back to
      -- a revision the current definition no longer has. bad_reason: the revision failed a
      -- rollout and is not deployed again until the definition gives the app another one.
      CREATE TABLE app_revisions (
        app        TEXT    NOT NULL,
        revision   TEXT    NOT NULL,
        spec       TEXT    NOT NULL CHECK (json_valid(spec)),
        created_at INTEGER NOT NULL,
        bad_reason TEXT,
        PRIMARY KEY (app, revision)
      ) STRICT;

      -- One row per rollout of an app, its outcome updated in place as it moves.
      CREATE TABLE rollouts (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        app           TEXT    NOT NULL,
        from_revision TEXT,
        to_revision   TEXT    NOT NULL,
        trigger       TEXT    NOT NULL CHECK (trigger IN ('apply', 'rollback')),
        state         TEXT    NOT NULL CHECK (state IN ('progressing', 'rolling-back',
                        'rolled-out', 'rolled-back', 'failed', 'superseded')),
        reason        TEXT,
        last_output   TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(last_output)),
        started_at    INTEGER NOT NULL,
        finished_at   INTEGER,
        by            TEXT    NOT NULL
      ) STRICT;
      CREATE INDEX rollouts_by_app ON rollouts (app, id);
      -- At most one unfinished rollout per app, whatever a crash interrupted.
      CREATE UNIQUE INDEX rollouts_one_active ON rollouts (app)
        WHERE state IN ('progressing', 'rolling-back');

      -- The journal: each step of a rollout, in order, never rewritten.
      CREATE TABLE rollout_steps (
        rollout INTEGER NOT NULL REFERENCES rollouts (id),
        seq     INTEGER NOT NULL,
        at      INTEGER NOT NULL,
        action  TEXT    NOT NULL,
        replica TEXT,
        detail  TEXT    NOT NULL DEFAULT '',
        PRIMARY KEY (rollout, seq)
      ) STRICT;
      CREATE TRIGGER rollout_steps_no_update BEFORE UPDATE ON rollout_steps
      BEGIN
        SELECT RAISE(ABORT, 'the rollout journal is append-only');
      END;

      -- \`baton rollback\`: the app runs this revision until the definition's own revision
      -- of the app (base_revision when the pin was made) changes.
      CREATE TABLE revision_pins (
        app           TEXT PRIMARY KEY,
        revision      TEXT NOT NULL,
        base_revision TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    id: 3,
    name: "the environment of each applied definition",
    up: `
      -- NULL: the definition declares no environments.
      ALTER TABLE revisions ADD COLUMN environment TEXT;
    `,
  },
  {
    id: 4,
    name: "releases",
    up: `
      -- Every build of an app that was recorded: what a deploy pins. kind says what
      -- \`ref\` and \`digest\` name: an image (ref@digest) today; a process app's artifact
      -- (its hash) later. details holds what else a release carries (test summaries…).
      CREATE TABLE releases (
        id                  INTEGER PRIMARY KEY AUTOINCREMENT,
        app                 TEXT    NOT NULL,
        version             TEXT    NOT NULL,
        kind                TEXT    NOT NULL CHECK (kind IN ('image', 'artifact')),
        ref                 TEXT    NOT NULL,
        digest              TEXT    NOT NULL,
        git_commit          TEXT,
        definition_revision TEXT    NOT NULL,
        created_at          INTEGER NOT NULL,
        created_by          TEXT    NOT NULL,
        details             TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(details)),
        UNIQUE (app, version)
      ) STRICT;
      CREATE INDEX releases_by_app ON releases (app, id);

      -- \`baton deploy APP --release V\`: the release an app runs instead of its newest.
      CREATE TABLE desired_releases (
        app     TEXT    PRIMARY KEY,
        version TEXT    NOT NULL,
        set_at  INTEGER NOT NULL,
        set_by  TEXT    NOT NULL
      ) STRICT;
    `,
  },
  {
    id: 5,
    name: "hosts",
    up: `
      -- What Baton put on each host, resource by resource: when the definition stops
      -- declaring one, this is what its removal is planned from (Ansible forgets it).
      CREATE TABLE host_resources (
        host        TEXT    NOT NULL,
        module      TEXT    NOT NULL,
        identity    TEXT    NOT NULL,
        spec        TEXT    NOT NULL CHECK (json_valid(spec)),
        applied_at  INTEGER NOT NULL,
        PRIMARY KEY (host, module, identity)
      ) STRICT;

      -- The last facts gathered from each host, and when.
      CREATE TABLE host_facts (
        host        TEXT    PRIMARY KEY,
        facts       TEXT    NOT NULL CHECK (json_valid(facts)),
        gathered_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    id: 6,
    name: "pipeline runs",
    up: `
      -- One run of a pipeline for one commit. A run the controller was executing when it
      -- died is marked interrupted when it comes back: never resumed half-way, never lost.
      CREATE TABLE pipeline_runs (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        pipeline    TEXT    NOT NULL,
        branch      TEXT    NOT NULL,
        git_commit  TEXT    NOT NULL,
        subject     TEXT    NOT NULL DEFAULT '',
        trigger     TEXT    NOT NULL CHECK (trigger IN ('push', 'poll', 'schedule', 'manual')),
        state       TEXT    NOT NULL CHECK (state IN
                      ('queued', 'running', 'passed', 'failed', 'cancelled', 'interrupted')),
        reason      TEXT,
        created_at  INTEGER NOT NULL,
        started_at  INTEGER,
        finished_at INTEGER,
        created_by  TEXT    NOT NULL,
        -- The release the run built, once it did (app, version).
        release_app     TEXT,
        release_version TEXT
      ) STRICT;
      CREATE INDEX pipeline_runs_by_pipeline ON pipeline_runs (pipeline, id);

      -- Each step of a run: its state, attempts, times, and what it produced.
      CREATE TABLE pipeline_steps (
        run_id      INTEGER NOT NULL REFERENCES pipeline_runs (id),
        seq         INTEGER NOT NULL,
        name        TEXT    NOT NULL,
        kind        TEXT    NOT NULL CHECK (kind IN ('run', 'build', 'deploy', 'promote')),
        state       TEXT    NOT NULL CHECK (state IN ('pending', 'running', 'waiting',
                      'passed', 'failed', 'timed-out', 'cancelled', 'skipped', 'interrupted')),
        attempts    INTEGER NOT NULL DEFAULT 0,
        exit_code   INTEGER,
        detail      TEXT,
        tests       TEXT CHECK (tests IS NULL OR json_valid(tests)),
        artifacts   TEXT CHECK (artifacts IS NULL OR json_valid(artifacts)),
        started_at  INTEGER,
        finished_at INTEGER,
        approved_by TEXT,
        approved_at INTEGER,
        -- What the step's current attempt started (a process group, a container): what a
        -- restarted controller stops when it marks the run interrupted.
        started     TEXT CHECK (started IS NULL OR json_valid(started)),
        PRIMARY KEY (run_id, name)
      ) STRICT;
    `,
  },
  {
    id: 7,
    name: "release numbers",
    up: `
      -- Versions name content (commit and digest); the number says which came after which:
      -- 1, 2, 3… per app in the environment that built them, kept when promoted.
      ALTER TABLE releases ADD COLUMN number INTEGER;
      UPDATE releases SET number =
        (SELECT count(*) FROM releases AS earlier
          WHERE earlier.app = releases.app AND earlier.id <= releases.id);
    `,
  },
  {
    id: 8,
    name: "alerts",
    up: `
      -- Every state change of an alert and every notification sent: \`baton alerts --history\`,
      -- and what a restarted controller rebuilds its alerts from (so nothing is told twice).
      CREATE TABLE alert_history (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        kind       TEXT    NOT NULL CHECK (kind IN ('transition', 'notified')),
        rule       TEXT    NOT NULL,
        labels     TEXT    NOT NULL CHECK (json_valid(labels)),
        from_state TEXT,
        to_state   TEXT,
        receiver   TEXT,
        status     TEXT,
        value      REAL,
        at         INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX alert_history_at ON alert_history (at);

      -- Silences in force or expired; expired ones are kept a while for the record.
      CREATE TABLE silences (
        id         TEXT    PRIMARY KEY,
        matchers   TEXT    NOT NULL CHECK (json_valid(matchers)),
        starts_at  INTEGER NOT NULL,
        until      INTEGER NOT NULL,
        created_by TEXT    NOT NULL,
        comment    TEXT    NOT NULL,
        removed_at INTEGER
      ) STRICT;
    `,
  },
  {
    id: 9,
    name: "pruned pipeline runs",
    up: `
      -- When retention removed a finished run's files (runs/<id>/) and why, in words for
      -- \`baton run logs\`; the record itself stays, for the history.
      ALTER TABLE pipeline_runs ADD COLUMN pruned_at INTEGER;
      ALTER TABLE pipeline_runs ADD COLUMN pruned_reason TEXT;
    `,
  },
  {
    id: 10,
    name: "why a rollout failed, for retrying it",
    up: `
      -- The update policy (canonical JSON) a revision was rolled out under when it failed:
      -- the policy is not part of the revision, and a change of it is the user's fix, so
      -- the revision is tried again then. NULL: marked bad before this was recorded.
      ALTER TABLE app_revisions ADD COLUMN bad_policy TEXT;
      -- Replicas of the previous revision still running when the rollout failed: a new
      -- replica that failed beside them may have failed because of them (a lock, a port).
      ALTER TABLE rollouts ADD COLUMN old_running INTEGER;
    `,
  },
  {
    id: 11,
    name: "the content a generation was applied with",
    up: `
      -- The folders and files the definition names, as the client uploaded them (JSON:
      -- {folders: {path: manifest digest}, files: {path: blob digest}}): a controller started
      -- again on its own reads its definition back from these and the blobs. NULL: applied
      -- before content was shipped, or read from the controller's own disk.
      ALTER TABLE revisions ADD COLUMN content TEXT CHECK (content IS NULL OR json_valid(content));
    `,
  },
  {
    id: 12,
    name: "tokens and the audit log",
    up: `
      -- Who may call the API: one row a token, its secret kept only as a hash. A revoked
      -- token keeps its row, so its name is not handed to someone else while the audit
      -- log still names it.
      CREATE TABLE tokens (
        name         TEXT    PRIMARY KEY,
        hash         TEXT    NOT NULL UNIQUE,
        role         TEXT    NOT NULL
          CHECK (role IN ('viewer', 'deployer', 'approver', 'admin', 'promoter')),
        env          TEXT,
        apps         TEXT CHECK (apps IS NULL OR json_valid(apps)),
        created_at   INTEGER NOT NULL,
        created_by   TEXT    NOT NULL,
        expires_at   INTEGER,
        last_used_at INTEGER,
        revoked_at   INTEGER
      ) STRICT;

      -- Every mutating call, appended once answered. The triggers make it append-only for
      -- any writer of the file, not only for Baton's own code.
      CREATE TABLE audit (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        at      INTEGER NOT NULL,
        who     TEXT    NOT NULL,
        role    TEXT    NOT NULL,
        action  TEXT    NOT NULL,
        target  TEXT,
        outcome INTEGER NOT NULL,
        address TEXT    NOT NULL
      ) STRICT;
      CREATE INDEX audit_by_time ON audit (at);
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    `,
  },
];

/** The schema version this build writes. */
export const LATEST_SCHEMA_VERSION: number = MIGRATIONS.at(-1)?.id ?? 0;

const CREATE_LEDGER = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`;

/** The highest migration applied to `db`; 0 for a database Baton never wrote. */
export function schemaVersion(db: BetterSqlite3.Database): number {
  const ledger = db
    .prepare<[], { n: number }>(
      "SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'",
    )
    .get();
  if (!ledger || ledger.n === 0) return 0;
  const row = db
    .prepare<[], { v: number | null }>("SELECT max(id) AS v FROM schema_migrations")
    .get();
  return row?.v ?? 0;
}

/**
 * Brings `db` to LATEST_SCHEMA_VERSION, one transaction a migration so a crash leaves the
 * database at a known version. Several processes may open the same state at once (CLI
 * and controller): each migration takes the write lock first and re-reads the version
 * under it, so a migration another process just applied is skipped, not re-run.
 */
export function migrate(
  db: BetterSqlite3.Database,
  path: string,
  migrations: readonly Migration[] = MIGRATIONS,
  now: () => number = Date.now,
): number {
  const latest = migrations.at(-1)?.id ?? 0;
  const found = schemaVersion(db);
  assertKnown(found, latest, path);
  for (const m of migrations) {
    // Checked outside the lock first so an up-to-date database is opened without writing.
    if (m.id <= found) continue;
    db.transaction(() => {
      const current = schemaVersion(db);
      assertKnown(current, latest, path);
      if (current >= m.id) return;
      db.exec(CREATE_LEDGER);
      db.exec(m.up);
      db.prepare("INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)").run(
        m.id,
        m.name,
        now(),
      );
    }).immediate();
  }
  return schemaVersion(db);
}

function assertKnown(version: number, latest: number, path: string): void {
  if (version > latest) {
    throw new StateError(
      "state.too_new",
      `${path} was written by a newer Baton (schema version ${version}; this build knows up to ${latest}); upgrade`,
      "upgrade Baton to the version that last wrote this state, or newer",
    );
  }
}
