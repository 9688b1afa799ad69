import type { StartedCommand } from "./attempt.js";

/** What the run state machine hands to a step, and what it gets back. */

export interface StepContext {
  /** The pipeline's name: caches are kept per pipeline. */
  readonly pipeline: string;
  /** Absolute path of the run's clean checkout: the step's working directory. */
  readonly checkout: string;
  /** The step's stdout and stderr are appended here as written (the CLI tails it). */
  readonly logFile: string;
  /** BATON_RUN, BATON_COMMIT… from the caller; the step's own `env` goes on top. */
  readonly env: Readonly<Record<string, string>>;
  /** Aborted when the run is cancelled (superseded): every process of the step is killed. */
  readonly signal: AbortSignal;
  /** Caches live in `<cacheRoot>/<pipeline>/<key>` between runs. */
  readonly cacheRoot: string;
  /** This run's artifacts are copied here, keeping their paths relative to the checkout. */
  readonly artifactsDir: string;
  /** Extra labels ("key" or "key=value") for containers the step starts. */
  readonly labels?: readonly string[];
  /** The log stops growing at this size: its head and its tail are kept (10Mi). */
  readonly maxLogBytes?: number;
  /** Between SIGTERM and SIGKILL of a timed-out or cancelled host step (default 3 s). */
  readonly killGraceMs?: number;
  /**
   * Told what each attempt started (a process group, a container), so the run can record it
   * and a restarted controller can end it with `stopLeftover`.
   */
  readonly onStarted?: (started: StartedCommand) => void;
  /**
   * Host steps run sandboxed: as `baton-step` (or the step's `user:`), which then owns the
   * checkout — a folder outside every state directory. Without it they run as the controller.
   */
  readonly sandboxed?: boolean;
}

export type StepStatus = "passed" | "failed" | "timed-out" | "cancelled";

export interface TestFailure {
  readonly name: string;
  readonly classname?: string;
  readonly message?: string;
  readonly file?: string;
}

export interface TestSummary {
  readonly total: number;
  readonly failed: number;
  readonly skipped: number;
  readonly failures: readonly TestFailure[];
}

export interface StepResult {
  readonly status: StepStatus;
  /** The last attempt's exit code; null when it was killed or never started. */
  readonly exitCode: number | null;
  readonly attempts: number;
  readonly startedAt: number;
  readonly durationMs: number;
  /** From the JUnit files the step wrote; absent when `junit` is empty or no file matched. */
  readonly tests?: TestSummary;
  /** Paths relative to `artifactsDir`, sorted. */
  readonly artifacts: readonly string[];
  /**
   * What went wrong around the command without deciding the status on its own: an image
   * that is not there, an unreadable JUnit file, a cache that could not be saved. Each is
   * also written to the log.
   */
  readonly problems: readonly string[];
}
