import type BetterSqlite3 from "better-sqlite3";

import type { DesiredRelease, ReleaseKind, ReleaseRecord } from "../api/releases.js";

export type { DesiredRelease, ReleaseKind, ReleaseRecord } from "../api/releases.js";

export type NewRelease = Omit<ReleaseRecord, "createdAt" | "details" | "number"> & {
  /** Given when the release was numbered elsewhere (a promotion); else the next number here. */
  readonly number?: number;
  readonly details?: Readonly<Record<string, unknown>>;
  /** When it was built; now unless the release is copied from another environment's store. */
  readonly createdAt?: number;
};

interface ReleaseRow {
  app: string;
  version: string;
  number: number | null;
  kind: ReleaseKind;
  ref: string;
  digest: string;
  git_commit: string | null;
  definition_revision: string;
  created_at: number;
  created_by: string;
  details: string;
}

const COLUMNS =
  "app, version, number, kind, ref, digest, git_commit, definition_revision, created_at, created_by, details";

/**
 * Releases of apps and the release each app is deployed at. Releases are never rewritten:
 * recording a version that exists returns the recorded one, so a build that is repeated
 * (or races another) keeps the first record.
 */
export class ReleaseStore {
  private readonly stmt;

  constructor(
    db: BetterSqlite3.Database,
    private readonly now: () => number,
  ) {
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO releases (${COLUMNS})
         VALUES (@app, @version,
                 coalesce(@number, (SELECT coalesce(max(number), 0) + 1 FROM releases WHERE app = @app)),
                 @kind, @ref, @digest, @commit, @definitionRevision, @at, @by, @details)
         ON CONFLICT (app, version) DO NOTHING`,
      ),
      find: db.prepare<{ app: string; version: string }, ReleaseRow>(
        `SELECT ${COLUMNS} FROM releases WHERE app = @app AND version = @version`,
      ),
      list: db.prepare<{ app: string; limit: number }, ReleaseRow>(
        `SELECT ${COLUMNS} FROM releases WHERE app = @app ORDER BY id DESC LIMIT @limit`,
      ),
      desired: db.prepare<{ app: string }, { version: string; set_at: number; set_by: string }>(
        "SELECT version, set_at, set_by FROM desired_releases WHERE app = @app",
      ),
      setDesired: db.prepare(
        `INSERT INTO desired_releases (app, version, set_at, set_by) VALUES (@app, @version, @at, @by)
         ON CONFLICT (app) DO UPDATE SET version = @version, set_at = @at, set_by = @by`,
      ),
      clearDesired: db.prepare("DELETE FROM desired_releases WHERE app = @app"),
    };
  }

  /** Records a release; `created` is false when that version was recorded before. */
  record(release: NewRelease): { record: ReleaseRecord; created: boolean } {
    const result = this.stmt.insert.run({
      app: release.app,
      version: release.version,
      number: release.number ?? null,
      kind: release.kind,
      ref: release.ref,
      digest: release.digest,
      commit: release.commit,
      definitionRevision: release.definitionRevision,
      at: release.createdAt ?? this.now(),
      by: release.createdBy,
      details: JSON.stringify(release.details ?? {}),
    });
    const record = this.find(release.app, release.version);
    if (record === undefined) throw new Error(`release ${release.version} vanished after insert`);
    return { record, created: result.changes === 1 };
  }

  find(app: string, version: string): ReleaseRecord | undefined {
    const row = this.stmt.find.get({ app, version });
    return row === undefined ? undefined : toRecord(row);
  }

  /** Newest first. */
  list(app: string, limit = 1000): ReleaseRecord[] {
    return this.stmt.list.all({ app, limit }).map(toRecord);
  }

  latest(app: string): ReleaseRecord | undefined {
    return this.list(app, 1)[0];
  }

  desired(app: string): DesiredRelease | undefined {
    const row = this.stmt.desired.get({ app });
    return row === undefined
      ? undefined
      : { version: row.version, setAt: row.set_at, setBy: row.set_by };
  }

  setDesired(app: string, version: string, by: string): void {
    this.stmt.setDesired.run({ app, version, at: this.now(), by });
  }

  clearDesired(app: string): void {
    this.stmt.clearDesired.run({ app });
  }
}

function toRecord(row: ReleaseRow): ReleaseRecord {
  return {
    app: row.app,
    version: row.version,
    number: row.number ?? 0,
    kind: row.kind,
    ref: row.ref,
    digest: row.digest,
    commit: row.git_commit,
    definitionRevision: row.definition_revision,
    createdAt: row.created_at,
    createdBy: row.created_by,
    details: JSON.parse(row.details) as Record<string, unknown>,
  };
}
