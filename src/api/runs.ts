/** Pipeline runs as the API answers them (`baton runs`, `baton run`, `baton approve`). */

export type RunTrigger = "push" | "poll" | "schedule" | "manual";
export type RunState = "queued" | "running" | "passed" | "failed" | "cancelled" | "interrupted";
export type StepState =
  | "pending"
  | "running"
  /** A promotion waiting for its approval or for the release to have been healthy long enough. */
  | "waiting"
  | "passed"
  | "failed"
  | "timed-out"
  | "cancelled"
  /** Not run: a step it needs did not pass, or the run ended first. */
  | "skipped"
  | "interrupted";
export type StepKind = "run" | "build" | "deploy" | "promote";

export interface RunRecord {
  readonly id: number;
  readonly pipeline: string;
  readonly branch: string;
  readonly commit: string;
  readonly subject: string;
  readonly trigger: RunTrigger;
  readonly state: RunState;
  readonly reason: string | null;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly createdBy: string;
  readonly release: { readonly app: string; readonly version: string } | null;
  /** Set once retention removed the run's files (checkout, logs, artifacts): when and why. */
  readonly pruned?: RunPruned;
}

export interface RunPruned {
  readonly at: number;
  /** Why, as a phrase: "older than 30d", "pipeline api keeps 50 runs". */
  readonly reason: string;
}

export interface TestCounts {
  readonly total: number;
  readonly failed: number;
  readonly skipped: number;
  /** The failed tests' names (`classname name`), for `baton runs` and the API. */
  readonly failures: readonly string[];
}

export interface StepRecord {
  readonly runId: number;
  /** The step's place in the pipeline's list. */
  readonly seq: number;
  readonly name: string;
  readonly kind: StepKind;
  readonly state: StepState;
  readonly attempts: number;
  readonly exitCode: number | null;
  /** Why it failed, what it waits for, what it deployed: one line for a terminal. */
  readonly detail: string | null;
  readonly tests: TestCounts | null;
  readonly artifacts: readonly string[];
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly approvedBy: string | null;
  readonly approvedAt: number | null;
  /** What the step's attempt started, as the step runner described it (opaque here). */
  readonly started: unknown;
}

/** `GET /api/v1/runs/:id`, and the answer of an approval or a cancel. */
export interface RunAnswer {
  readonly run: RunRecord;
  readonly steps: readonly StepRecord[];
}

/** `GET /api/v1/runs?pipeline=P&limit=N`: newest first, 20 unless `limit` says. */
export interface RunsQuery {
  readonly pipeline?: string;
  readonly limit?: number;
}

export interface RunsAnswer {
  readonly runs: readonly RunAnswer[];
}

/** `POST /api/v1/pipelines/:pipeline/runs` (`baton run`): the branch's head unless `ref`. */
export interface TriggerRunRequest {
  readonly ref?: string;
  readonly by?: string;
}

/** The run queued. */
export interface TriggerRunAnswer {
  readonly run: RunRecord;
}

/** `POST /api/v1/runs/:id/approve` and `…/cancel`. */
export interface RunActionRequest {
  readonly by?: string;
}

/** `POST /api/v1/hooks/push`: what a git hook saw pushed. */
export interface PushNotice {
  /** The repository pushed to, as the hook names it (absolute, symlinks resolved). */
  readonly repo: string;
  readonly ref: string;
  readonly old: string;
  readonly new: string;
}

/** The pipelines that read that repository and branch, which look at it now. */
export interface PushAnswer {
  readonly pipelines: readonly string[];
}
