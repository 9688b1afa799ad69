import type BetterSqlite3 from "better-sqlite3";
import type {
  NewRolloutStep,
  RolloutChange,
  RolloutRecord,
  RolloutState,
  RolloutStep,
  RolloutTrigger,
} from "../apps/rollout-types.js";

/** What a revision of an app is made of, as the store keeps it. */
export interface AppRevisionRecord {
  readonly app: string;
  readonly revision: string;
  /** The app's spec (JSON) at that revision: enough to start its replicas again. */
  readonly spec: string;
  readonly createdAt: number;
  /**
   * Set when the revision failed a rollout: not deployed again until the definition gives
   * the app another revision, or its update policy changes.
   */
  readonly badReason: string | null;
  /** The update policy it failed under (canonical JSON); null if not recorded. */
  readonly badPolicy: string | null;
}

export interface RevisionPin {
  readonly revision: string;
  /** The definition's own revision of the app when the pin was made. */
  readonly baseRevision: string;
}

interface RolloutRow {
  id: number;
  app: string;
  from_revision: string | null;
  to_revision: string;
  trigger: RolloutTrigger;
  state: RolloutState;
  reason: string | null;
  last_output: string;
  old_running: number | null;
  started_at: number;
  finished_at: number | null;
  by: string;
}

interface AppRevisionRow {
  app: string;
  revision: string;
  spec: string;
  created_at: number;
  bad_reason: string | null;
  bad_policy: string | null;
}

const ROLLOUT_COLUMNS =
  "id, app, from_revision, to_revision, trigger, state, reason, last_output, old_running, started_at, finished_at, by";
const ACTIVE = "state IN ('progressing', 'rolling-back')";

/**
 * Rollouts, their journal, the specs of app revisions and rollback pins. Every method is
 * one statement or one transaction: a controller killed between two calls leaves each
 * record whole, and the next controller resumes from what is there.
 */
export class RolloutStore {
  private readonly stmt;

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly now: () => number,
  ) {
    this.stmt = {
      putRevision: db.prepare(
        `INSERT INTO app_revisions (app, revision, spec, created_at) VALUES (@app, @revision, @spec, @at)
         ON CONFLICT (app, revision) DO NOTHING`,
      ),
      revision: db.prepare<{ app: string; revision: string }, AppRevisionRow>(
        "SELECT * FROM app_revisions WHERE app = @app AND revision = @revision",
      ),
      revisionsByPrefix: db.prepare<{ app: string; prefix: string }, AppRevisionRow>(
        "SELECT * FROM app_revisions WHERE app = @app AND substr(revision, 1, length(@prefix)) = @prefix",
      ),
      markBad: db.prepare(
        "UPDATE app_revisions SET bad_reason = @reason, bad_policy = @policy WHERE app = @app AND revision = @revision",
      ),
      clearBadExcept: db.prepare(
        "UPDATE app_revisions SET bad_reason = NULL, bad_policy = NULL WHERE app = @app AND revision != @keep AND bad_reason IS NOT NULL",
      ),
      clearBad: db.prepare(
        "UPDATE app_revisions SET bad_reason = NULL, bad_policy = NULL WHERE app = @app AND revision = @revision",
      ),
      insertRollout: db.prepare(
        `INSERT INTO rollouts (app, from_revision, to_revision, trigger, state, started_at, by)
         VALUES (@app, @from, @to, @trigger, 'progressing', @at, @by)`,
      ),
      supersede: db.prepare(
        `UPDATE rollouts SET state = 'superseded', finished_at = @at,
           reason = coalesce(reason, @reason) WHERE app = @app AND ${ACTIVE}`,
      ),
      updateRollout: db.prepare(
        `UPDATE rollouts SET state = @state, reason = coalesce(@reason, reason),
           last_output = coalesce(@lastOutput, last_output),
           old_running = coalesce(@oldRunning, old_running),
           finished_at = CASE WHEN @finished = 1 THEN @at ELSE finished_at END
         WHERE id = @id`,
      ),
      rollout: db.prepare<{ id: number }, RolloutRow>(
        `SELECT ${ROLLOUT_COLUMNS} FROM rollouts WHERE id = @id`,
      ),
      active: db.prepare<{ app: string }, RolloutRow>(
        `SELECT ${ROLLOUT_COLUMNS} FROM rollouts WHERE app = @app AND ${ACTIVE}`,
      ),
      history: db.prepare<{ app: string; limit: number }, RolloutRow>(
        `SELECT ${ROLLOUT_COLUMNS} FROM rollouts WHERE app = @app ORDER BY id DESC LIMIT @limit`,
      ),
      serving: db.prepare<{ app: string }, RolloutRow>(
        `SELECT ${ROLLOUT_COLUMNS} FROM rollouts
         WHERE app = @app AND state IN ('rolled-out', 'rolled-back') ORDER BY id DESC LIMIT 1`,
      ),
      appendStep: db.prepare(
        `INSERT INTO rollout_steps (rollout, seq, at, action, replica, detail)
         SELECT @rollout, coalesce(max(seq), 0) + 1, @at, @action, @replica, @detail
         FROM rollout_steps WHERE rollout = @rollout`,
      ),
      steps: db.prepare<{ rollout: number; limit: number }, RolloutStep>(
        `SELECT * FROM (SELECT rollout, seq, at, action, replica, detail FROM rollout_steps
         WHERE rollout = @rollout ORDER BY seq DESC LIMIT @limit) ORDER BY seq`,
      ),
      pin: db.prepare<{ app: string }, { revision: string; base_revision: string }>(
        "SELECT revision, base_revision FROM revision_pins WHERE app = @app",
      ),
      setPin: db.prepare(
        `INSERT INTO revision_pins (app, revision, base_revision) VALUES (@app, @revision, @base)
         ON CONFLICT (app) DO UPDATE SET revision = excluded.revision, base_revision = excluded.base_revision`,
      ),
      clearPin: db.prepare("DELETE FROM revision_pins WHERE app = @app"),
    };
  }

  /** Runs `fn` as one transaction: several calls that must land together or not at all. */
  atomically<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Keeps the spec of a revision the first time it is seen; later calls change nothing. */
  saveRevision(app: string, revision: string, spec: unknown): void {
    this.stmt.putRevision.run({ app, revision, spec: JSON.stringify(spec), at: this.now() });
  }

  revision(app: string, revision: string): AppRevisionRecord | undefined {
    const row = this.stmt.revision.get({ app, revision });
    return row && toAppRevision(row);
  }

  /** Revisions of the app whose hash starts with `prefix` (what a user types). */
  revisionsStartingWith(app: string, prefix: string): AppRevisionRecord[] {
    return this.stmt.revisionsByPrefix.all({ app, prefix }).map(toAppRevision);
  }

  /** `policy`: the update policy the revision failed under, to retry it once that changes. */
  markBad(app: string, revision: string, reason: string, policy: string | null): void {
    this.stmt.markBad.run({ app, revision, reason, policy });
  }

  /** The definition gave the app another revision: earlier failures may be tried again. */
  clearBadExcept(app: string, keep: string): void {
    this.stmt.clearBadExcept.run({ app, keep });
  }

  /** The revision may be rolled out again (its policy changed, or `baton rollout retry`). */
  clearBad(app: string, revision: string): void {
    this.stmt.clearBad.run({ app, revision });
  }

  /** Starts a rollout; an unfinished one of the same app is marked superseded in the same step. */
  start(r: {
    app: string;
    from: string | null;
    to: string;
    trigger: RolloutTrigger;
    by: string;
    /** Why it starts, when its trigger does not say it all: for the journal's first step. */
    why?: string;
  }): RolloutRecord {
    return this.db
      .transaction(() => {
        const at = this.now();
        this.stmt.supersede.run({
          app: r.app,
          at,
          reason: `superseded by a rollout to ${r.to}`,
        });
        const result = this.stmt.insertRollout.run({
          app: r.app,
          from: r.from,
          to: r.to,
          trigger: r.trigger,
          by: r.by,
          at,
        });
        const id = Number(result.lastInsertRowid);
        this.stmt.appendStep.run({
          rollout: id,
          at,
          action: "begin",
          replica: null,
          detail:
            r.from === null
              ? `deploy ${r.to}${r.why === undefined ? "" : ` (${r.why})`}`
              : `${r.from} → ${r.to} (${r.trigger}${r.why === undefined ? "" : `; ${r.why}`})`,
        });
        return this.get(id) as RolloutRecord;
      })
      .immediate();
  }

  /** Moves a rollout to `state`; `finished` stamps its end. Journaled in the same step. */
  update(id: number, change: RolloutChange): RolloutRecord | undefined {
    return this.db
      .transaction(() => {
        const at = this.now();
        this.stmt.updateRollout.run({
          id,
          state: change.state,
          reason: change.reason ?? null,
          lastOutput: change.lastOutput === undefined ? null : JSON.stringify(change.lastOutput),
          oldRunning: change.oldRunning ?? null,
          finished: change.finished === true ? 1 : 0,
          at,
        });
        if (change.step !== undefined) this.appendStepAt(id, at, change.step);
        return this.get(id);
      })
      .immediate();
  }

  get(id: number): RolloutRecord | undefined {
    const row = this.stmt.rollout.get({ id });
    return row && toRollout(row);
  }

  /** The app's unfinished rollout, if any. */
  active(app: string): RolloutRecord | undefined {
    const row = this.stmt.active.get({ app });
    return row && toRollout(row);
  }

  /** Newest first. */
  history(app: string, limit = 100): RolloutRecord[] {
    return this.stmt.history.all({ app, limit }).map(toRollout);
  }

  /** The revision the app's last finished rollout left serving. */
  servingRevision(app: string): string | undefined {
    const row = this.stmt.serving.get({ app });
    if (row === undefined) return undefined;
    return row.state === "rolled-out" ? row.to_revision : (row.from_revision ?? undefined);
  }

  appendStep(rollout: number, step: NewRolloutStep): void {
    this.appendStepAt(rollout, this.now(), step);
  }

  /** Oldest first: the last `limit` steps. */
  steps(rollout: number, limit = 50): RolloutStep[] {
    return this.stmt.steps.all({ rollout, limit });
  }

  pin(app: string): RevisionPin | undefined {
    const row = this.stmt.pin.get({ app });
    return row && { revision: row.revision, baseRevision: row.base_revision };
  }

  setPin(app: string, revision: string, baseRevision: string): void {
    this.stmt.setPin.run({ app, revision, base: baseRevision });
  }

  clearPin(app: string): void {
    this.stmt.clearPin.run({ app });
  }

  private appendStepAt(rollout: number, at: number, step: NewRolloutStep): void {
    this.stmt.appendStep.run({
      rollout,
      at,
      action: step.action,
      replica: step.replica ?? null,
      detail: step.detail,
    });
  }
}

function toRollout(row: RolloutRow): RolloutRecord {
  return {
    id: row.id,
    app: row.app,
    fromRevision: row.from_revision,
    toRevision: row.to_revision,
    trigger: row.trigger,
    state: row.state,
    reason: row.reason,
    lastOutput: JSON.parse(row.last_output) as string[],
    oldRunning: row.old_running,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    by: row.by,
  };
}

function toAppRevision(row: AppRevisionRow): AppRevisionRecord {
  return {
    app: row.app,
    revision: row.revision,
    spec: row.spec,
    createdAt: row.created_at,
    badReason: row.bad_reason,
    badPolicy: row.bad_policy,
  };
}
