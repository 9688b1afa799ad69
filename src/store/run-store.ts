import type BetterSqlite3 from "better-sqlite3";

import type {
  RunRecord,
  RunState,
  RunTrigger,
  StepKind,
  StepRecord,
  StepState,
  TestCounts,
} from "../api/runs.js";

export type {
  RunPruned,
  RunRecord,
  RunState,
  RunTrigger,
  StepKind,
  StepRecord,
  StepState,
  TestCounts,
} from "../api/runs.js";

/** A finished run as retention weighs it. */
export interface FinishedRun {
  readonly id: number;
  readonly finishedAt: number;
  readonly pruned: boolean;
}

export interface NewRun {
  readonly pipeline: string;
  readonly branch: string;
  readonly commit: string;
  readonly subject?: string;
  readonly trigger: RunTrigger;
  readonly createdBy: string;
  readonly steps: readonly { readonly name: string; readonly kind: StepKind }[];
}

export type StepPatch = Partial<
  Pick<
    StepRecord,
    | "state"
    | "attempts"
    | "exitCode"
    | "detail"
    | "tests"
    | "artifacts"
    | "startedAt"
    | "finishedAt"
    | "approvedBy"
    | "approvedAt"
    | "started"
  >
>;

interface RunRow {
  id: number;
  pipeline: string;
  branch: string;
  git_commit: string;
  subject: string;
  trigger: RunTrigger;
  state: RunState;
  reason: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  created_by: string;
  release_app: string | null;
  release_version: string | null;
  pruned_at: number | null;
  pruned_reason: string | null;
}

interface StepRow {
  run_id: number;
  seq: number;
  name: string;
  kind: StepKind;
  state: StepState;
  attempts: number;
  exit_code: number | null;
  detail: string | null;
  tests: string | null;
  artifacts: string | null;
  started_at: number | null;
  finished_at: number | null;
  approved_by: string | null;
  approved_at: number | null;
  started: string | null;
}

const FINISHED: readonly RunState[] = ["passed", "failed", "cancelled", "interrupted"];
const STEP_COLUMNS: Readonly<Record<keyof StepPatch, string>> = {
  state: "state",
  attempts: "attempts",
  exitCode: "exit_code",
  detail: "detail",
  tests: "tests",
  artifacts: "artifacts",
  startedAt: "started_at",
  finishedAt: "finished_at",
  approvedBy: "approved_by",
  approvedAt: "approved_at",
  started: "started",
};

/**
 * Pipeline runs and their steps: what `baton runs` shows and what survives the controller.
 * A run's record is only ever moved forward (queued → running → an end state); an end state
 * is never left.
 */
export class RunStore {
  private readonly stmt;
  private readonly tx: <T>(fn: () => T) => T;

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly now: () => number,
  ) {
    this.tx = <T>(fn: () => T): T => db.transaction(fn).immediate();
    this.stmt = {
      insertRun: db.prepare(
        `INSERT INTO pipeline_runs (pipeline, branch, git_commit, subject, trigger, state, created_at, created_by)
         VALUES (@pipeline, @branch, @commit, @subject, @trigger, 'queued', @at, @by)`,
      ),
      insertStep: db.prepare(
        `INSERT INTO pipeline_steps (run_id, seq, name, kind, state) VALUES (@run, @seq, @name, @kind, 'pending')`,
      ),
      run: db.prepare<[number], RunRow>("SELECT * FROM pipeline_runs WHERE id = ?"),
      runs: db.prepare<{ pipeline: string | null; limit: number }, RunRow>(
        `SELECT * FROM pipeline_runs WHERE @pipeline IS NULL OR pipeline = @pipeline
         ORDER BY id DESC LIMIT @limit`,
      ),
      active: db.prepare<[], RunRow>(
        "SELECT * FROM pipeline_runs WHERE state IN ('queued', 'running') ORDER BY id",
      ),
      steps: db.prepare<[number], StepRow>(
        "SELECT * FROM pipeline_steps WHERE run_id = ? ORDER BY seq",
      ),
      setState: db.prepare(
        `UPDATE pipeline_runs SET state = @state, reason = @reason,
           started_at = CASE WHEN @state = 'running' THEN @at ELSE started_at END,
           finished_at = CASE WHEN @finished THEN @at ELSE finished_at END
         WHERE id = @id`,
      ),
      interruptSteps: db.prepare(
        `UPDATE pipeline_steps SET state = 'interrupted', finished_at = @at
         WHERE run_id = @run AND state IN ('pending', 'running', 'waiting')`,
      ),
      finished: db.prepare<[string], { id: number; finished_at: number; pruned_at: number | null }>(
        `SELECT id, finished_at, pruned_at FROM pipeline_runs
         WHERE pipeline = ? AND finished_at IS NOT NULL
           AND state IN ('passed', 'failed', 'cancelled', 'interrupted')
         ORDER BY id DESC`,
      ),
      withFiles: db.prepare<[], { pipeline: string }>(
        `SELECT DISTINCT pipeline FROM pipeline_runs
         WHERE pruned_at IS NULL AND state IN ('passed', 'failed', 'cancelled', 'interrupted')
         ORDER BY pipeline`,
      ),
      setPruned: db.prepare(
        `UPDATE pipeline_runs SET pruned_at = @at, pruned_reason = @reason
         WHERE id = @id AND pruned_at IS NULL
           AND state IN ('passed', 'failed', 'cancelled', 'interrupted')`,
      ),
      setRelease: db.prepare(
        "UPDATE pipeline_runs SET release_app = @app, release_version = @version WHERE id = @id",
      ),
    };
  }

  /** A queued run with its steps pending. */
  create(run: NewRun): RunRecord {
    return this.tx(() => {
      const id = Number(
        this.stmt.insertRun.run({
          pipeline: run.pipeline,
          branch: run.branch,
          commit: run.commit,
          subject: run.subject ?? "",
          trigger: run.trigger,
          at: this.now(),
          by: run.createdBy,
        }).lastInsertRowid,
      );
      run.steps.forEach((step, seq) => {
        this.stmt.insertStep.run({ run: id, seq, name: step.name, kind: step.kind });
      });
      return this.require(id);
    });
  }

  get(id: number): RunRecord | undefined {
    const row = this.stmt.run.get(id);
    return row === undefined ? undefined : toRun(row);
  }

  /** Newest first. */
  list(pipeline?: string, limit = 50): RunRecord[] {
    return this.stmt.runs.all({ pipeline: pipeline ?? null, limit }).map(toRun);
  }

  /** Queued and running runs, oldest first. */
  active(): RunRecord[] {
    return this.stmt.active.all().map(toRun);
  }

  steps(runId: number): StepRecord[] {
    return this.stmt.steps.all(runId).map(toStep);
  }

  /**
   * Moves the run to `state`; false (and nothing written) when it has already ended — a run
   * cancelled while its last step finished stays cancelled.
   */
  setState(id: number, state: RunState, reason: string | null = null): boolean {
    return this.tx(() => {
      const current = this.require(id);
      if (FINISHED.includes(current.state)) return false;
      this.stmt.setState.run({
        id,
        state,
        reason,
        at: this.now(),
        finished: FINISHED.includes(state) ? 1 : 0,
      });
      return true;
    });
  }

  updateStep(runId: number, name: string, patch: StepPatch): void {
    const entries = Object.entries(patch) as [keyof StepPatch, unknown][];
    if (entries.length === 0) return;
    const sets = entries.map(([key]) => `${STEP_COLUMNS[key]} = @${key}`).join(", ");
    const values: Record<string, unknown> = { run: runId, name };
    for (const [key, value] of entries) {
      values[key] =
        key === "tests" || key === "artifacts" || key === "started" ? json(value) : value;
    }
    const result = this.db
      .prepare(`UPDATE pipeline_steps SET ${sets} WHERE run_id = @run AND name = @name`)
      .run(values);
    if (result.changes !== 1) throw new Error(`bug: run ${runId} has no step ${name}`);
  }

  /** The pipeline's finished runs, newest first, for retention. */
  finished(pipeline: string): FinishedRun[] {
    return this.stmt.finished.all(pipeline).map((row) => ({
      id: row.id,
      finishedAt: row.finished_at,
      pruned: row.pruned_at !== null,
    }));
  }

  /** Pipelines with finished runs whose files retention has not removed. */
  pipelinesWithFiles(): string[] {
    return this.stmt.withFiles.all().map((row) => row.pipeline);
  }

  /**
   * Records that retention removed the run's files; false when the run is not a finished run
   * that still had them.
   */
  setPruned(runId: number, reason: string): boolean {
    return this.stmt.setPruned.run({ id: runId, at: this.now(), reason }).changes === 1;
  }

  setRelease(runId: number, app: string, version: string): void {
    this.stmt.setRelease.run({ id: runId, app, version });
  }

  /**
   * After a controller restart: every run it was executing is marked interrupted, with its
   * unfinished steps — nothing is resumed half-way. Queued runs stay queued. Returns their ids
   * and what their running steps had started, for the caller to stop.
   */
  interruptRunning(reason: string): { runs: number[]; started: unknown[] } {
    return this.tx(() => {
      const running = this.stmt.active.all().filter((r) => r.state === "running");
      const started = running.flatMap((run) =>
        this.steps(run.id).flatMap((s) =>
          s.started !== null && (s.state === "running" || s.state === "waiting") ? [s.started] : [],
        ),
      );
      for (const run of running) {
        this.stmt.setState.run({
          id: run.id,
          state: "interrupted",
          reason,
          at: this.now(),
          finished: 1,
        });
        this.stmt.interruptSteps.run({ run: run.id, at: this.now() });
      }
      return { runs: running.map((r) => r.id), started };
    });
  }

  private require(id: number): RunRecord {
    const run = this.get(id);
    if (run === undefined) throw new Error(`bug: no run ${id}`);
    return run;
  }
}

function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

function toRun(row: RunRow): RunRecord {
  return {
    id: row.id,
    pipeline: row.pipeline,
    branch: row.branch,
    commit: row.git_commit,
    subject: row.subject,
    trigger: row.trigger,
    state: row.state,
    reason: row.reason,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    createdBy: row.created_by,
    release:
      row.release_app === null || row.release_version === null
        ? null
        : { app: row.release_app, version: row.release_version },
    ...(row.pruned_at === null
      ? {}
      : { pruned: { at: row.pruned_at, reason: row.pruned_reason ?? "" } }),
  };
}

function toStep(row: StepRow): StepRecord {
  return {
    runId: row.run_id,
    seq: row.seq,
    name: row.name,
    kind: row.kind,
    state: row.state,
    attempts: row.attempts,
    exitCode: row.exit_code,
    detail: row.detail,
    tests: row.tests === null ? null : (JSON.parse(row.tests) as TestCounts),
    artifacts: row.artifacts === null ? [] : (JSON.parse(row.artifacts) as string[]),
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    approvedBy: row.approved_by,
    approvedAt: row.approved_at,
    started: row.started === null ? null : (JSON.parse(row.started) as unknown),
  };
}
