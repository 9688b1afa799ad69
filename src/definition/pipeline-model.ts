/**
 * The typed form of `pipelines:`: where each pipeline's commits come from, what starts a run,
 * and its steps — commands (tests), image builds, deploys and promotions — with the order
 * `needs:` gives them. Steps without a dependency between them run in parallel.
 */

/** Where a pipeline's commits come from. */
export interface PipelineSource {
  /**
   * A git repository: an absolute path (a bare or working repository on this machine; a
   * relative path in the definition is resolved against its folder) or an ssh/https URL.
   */
  readonly repo: string;
  /** The branch whose commits run the pipeline. */
  readonly branch: string;
}

export interface PipelineTriggers {
  /** Runs on a push notified by the repository's `post-receive` hook (`baton hooks install`). */
  readonly push: boolean;
  /** The branch is also polled this often, for pushes no hook reported (0: never). */
  readonly pollMs: number;
  /** Cron expressions (5 fields, or 6 with seconds) that start a run of the branch's head. */
  readonly schedule: readonly string[];
}

export interface PipelineConcurrency {
  /**
   * A newer commit of the branch cancels a queued or running run of an older one that has not
   * deployed yet (true by default); false lets every commit's run finish, one after the other.
   */
  readonly cancelSuperseded: boolean;
}

/**
 * How long a finished run's files (`runs/<id>/`: checkout, step logs, artifacts) are kept;
 * its record stays in the store either way.
 */
export interface PipelineRetention {
  /** The newest finished runs of the pipeline whose files are kept. */
  readonly runs: number;
  /** A finished run's files go this long after it ended. */
  readonly maxAgeMs: number;
  /** A step's log stops growing at this many bytes (its head and its tail are kept). */
  readonly maxLogBytes: number;
}

/** What every step may say. */
export interface StepCommon {
  /** Unique in its pipeline. */
  readonly name: string;
  /**
   * Steps that must have passed before this one starts: those it names, or — for a build,
   * deploy or promote step that names none — every step before it (a release only from a
   * commit whose earlier steps passed). A `run` step that names none needs none.
   */
  readonly needs: readonly string[];
  /** The whole step (every process it started) is killed after this long. */
  readonly timeoutMs: number;
  /** Runs again this many times after a failure (not after a timeout or a cancel). */
  readonly retries: number;
}

/** A cache kept between runs: `path` (in the checkout) restored before, saved after. */
export interface StepCache {
  readonly path: string;
  /** The cache's name; runs with the same key share it. Default: the path. */
  readonly key: string;
}

/** Where a step's secret comes from: a file (absolute path) or the controller's environment. */
export type StepSecret =
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "env"; readonly name: string };

/** A command (tests, a build script…), in a container of `image` or on the controller's host. */
export interface RunStep extends StepCommon {
  readonly kind: "run";
  /** A command line run by `sh -c` in the run's checkout. */
  readonly run: string;
  /** A local image to run it in (the checkout mounted at /workspace); the host when absent. */
  readonly image?: string;
  /** Who a host step runs as (NAME, UID or UID:GID); baton-step when absent. */
  readonly user?: string;
  /** Variables of the step's environment (on top of BATON_* ones). */
  readonly env: Readonly<Record<string, string>>;
  /** Variables whose values are secrets, read when the step starts; masked in its log. */
  readonly secrets: Readonly<Record<string, StepSecret>>;
  /** JUnit XML files (globs relative to the checkout) to read into test counts and failures. */
  readonly junit: readonly string[];
  readonly caches: readonly StepCache[];
  /** Files kept with the run (globs relative to the checkout). */
  readonly artifacts: readonly string[];
}

/** Builds the app's image at the run's commit: the run's release. */
export interface BuildStep extends StepCommon {
  readonly kind: "build";
  readonly app: string;
}

/**
 * Rolls the app's release of the run out to an environment; when no step before it built
 * the app, it builds the run's commit first, as a build step would.
 */
export interface DeployStep extends StepCommon {
  readonly kind: "deploy";
  readonly app: string;
  readonly environment: string;
}

/** Deploys to `to` the very release (same digest) that runs in the environment before it. */
export interface PromoteStep extends StepCommon {
  readonly kind: "promote";
  readonly app: string;
  /** The environment the release comes from: that of the app's deploy or promote step before. */
  readonly from: string;
  readonly to: string;
  /** manual: waits for `baton approve RUN`. */
  readonly approval: "manual" | "auto";
  /** Waits until the release has been healthy this long where it runs before. */
  readonly healthyForMs: number;
}

export type PipelineStep = RunStep | BuildStep | DeployStep | PromoteStep;

export interface PipelineSpec {
  readonly name: string;
  readonly source: PipelineSource;
  readonly triggers: PipelineTriggers;
  readonly concurrency: PipelineConcurrency;
  readonly retention: PipelineRetention;
  /** In definition order; `needs` only names earlier or later steps of this list (no cycle). */
  readonly steps: readonly PipelineStep[];
  /**
   * The environment whose controller runs the pipeline: the one it first deploys to; without
   * deploy steps, the first environment declared; undefined when the definition declares none
   * (then the one controller runs it). Controllers of other environments leave it alone.
   */
  readonly home?: string;
}
