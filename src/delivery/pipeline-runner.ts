/**
 * One run of a pipeline, from its queued record to its end: a clean checkout of exactly its
 * commit, then its steps in the order of their `needs` — commands through the step runner,
 * the image build, deploys and promotions through the release actions the controller gives
 * (a deploy of an app that no step built before it builds the app itself) —
 * with every step's state written to the store as it changes and told as an event. The run
 * can be cancelled (a newer commit) at any point; a promotion can wait for an approval.
 */
import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
import { dirname, join } from "node:path";
import type { DeployStep, PipelineSpec, PromoteStep, RunStep } from "../definition/index.js";
import type { NewEvent, RunRecord, RunStore, TestCounts } from "../store/index.js";
import { checkout, detachObjects } from "./git/checkout.js";
import { executeRunGraph, type RunOutcome, type StepOutcome } from "./run-graph.js";
import { runDirectory, stepLogFile } from "./run-paths.js";
import { CappedLog } from "./steps/capped-log.js";
import { runStep } from "./steps/run-step.js";
import type { TestSummary } from "./steps/step-types.js";

/** What the controller does for release steps; each rejects with a message a user can act on. */
export interface ReleaseActions {
  /** Builds the app at the run's checkout and records the release; resolves with its version. */
  build(request: BuildRequest): Promise<string>;
  /** Rolls the environment's app out to the release and resolves once it is healthy there. */
  deploy(request: DeployRequest): Promise<void>;
  /** When the release became healthy in the environment (ms), or undefined if it is not. */
  healthySince(app: string, environment: string, version: string): Promise<number | undefined>;
}

export interface BuildRequest {
  readonly app: string;
  readonly checkout: string;
  readonly run: RunRecord;
  /** A line of the build's progress, for the step's log. */
  readonly log: (line: string) => void;
  /** Aborted when the run is cancelled: the build is abandoned. */
  readonly signal: AbortSignal;
}

export interface DeployRequest {
  readonly app: string;
  readonly environment: string;
  readonly version: string;
  readonly run: RunRecord;
  /** Who deploys and why, as the environment's history records it. */
  readonly by: string;
  /** Aborted when the run is cancelled: stop waiting for the rollout. */
  readonly signal: AbortSignal;
}

export interface PipelineRunnerOptions {
  readonly store: RunStore;
  readonly emit: (event: NewEvent) => void;
  /** Where each run's checkout, logs and artifacts go: `<runsDir>/<id>/`. */
  readonly runsDir: string;
  /** Caches between runs: `<cacheRoot>/<pipeline>/<key>`. */
  readonly cacheRoot: string;
  /** Mirrors of remote repositories (local paths are read in place). */
  readonly mirrorRoot: string;
  readonly release: ReleaseActions;
  /** Labels of containers that steps start, so that they can be found and removed. */
  readonly labels?: readonly string[];
  /** Steps of one run at once. */
  readonly parallel?: number;
  readonly now?: () => number;
  /** How often a promotion waiting for health looks again. */
  readonly healthPollMs?: number;
  /**
   * Each run's checkout outside the state directory (security/sandbox): its host steps then
   * run sandboxed. Absent, the checkout is `<runsDir>/<id>/checkout` and steps run as we do.
   */
  readonly workspaces?: RunWorkspaces;
}

export interface RunWorkspaces {
  /** The run's folder: its checkout. */
  of(runId: number): string;
  /** Makes the folders above it exist, private (before each checkout). */
  prepare(): Promise<void>;
}

export class PipelineRunner {
  private readonly cancels = new Map<number, AbortController>();
  private readonly approvals = new Map<string, (by: string) => void>();

  constructor(private readonly options: PipelineRunnerOptions) {}

  /** Cancels a run that is executing; false when it is not executing here. */
  cancel(runId: number): boolean {
    const controller = this.cancels.get(runId);
    controller?.abort();
    return controller !== undefined;
  }

  /** Whether the run is executing here (a cancelled run too, until its steps have stopped). */
  executing(runId: number): boolean {
    return this.cancels.has(runId);
  }

  /** Approves a promotion that waits for it; false when none of the run's steps waits. */
  approve(runId: number, by: string): boolean {
    for (const [key, resolve] of this.approvals) {
      if (key.startsWith(`${runId}/`)) {
        resolve(by);
        return true;
      }
    }
    return false;
  }

  /** Executes a queued run to its end (never rejects). */
  async execute(pipeline: PipelineSpec, run: RunRecord): Promise<RunOutcome> {
    const { store } = this.options;
    const cancel = new AbortController();
    this.cancels.set(run.id, cancel);
    const dir = runDirectory(this.options.runsDir, run.id);
    const workspaces = this.options.workspaces;
    const checkoutDir = workspaces === undefined ? join(dir, "checkout") : workspaces.of(run.id);
    /** The release of each app this run built: what its deploys and promotions roll out. */
    const releases = new Map<string, string>();
    try {
      if (!store.setState(run.id, "running")) return { state: "cancelled" };
      this.event(run, "run.started", `${pipeline.name} #${run.id} started on ${short(run.commit)}`);
      mkdirSync(join(dir, "logs"), { recursive: true, mode: 0o700 });
      try {
        await workspaces?.prepare();
        await checkout(pipeline.source, run.commit, checkoutDir, this.options.mirrorRoot);
        if (workspaces !== undefined) {
          // Private until a step's user is handed it: run folders have guessable names.
          chmodSync(checkoutDir, 0o700);
          if (pipeline.steps.some((s) => s.kind === "run" && s.image === undefined)) {
            await detachObjects(checkoutDir);
          }
        }
      } catch (error) {
        return this.end(run, { state: "failed", reason: `checkout failed: ${message(error)}` });
      }
      const outcome = await executeRunGraph({
        steps: pipeline.steps,
        signal: cancel.signal,
        ...(this.options.parallel === undefined ? {} : { parallel: this.options.parallel }),
        onStep: (name, state, detail) => {
          const at = this.now();
          store.updateStep(run.id, name, {
            state,
            ...(state === "running" ? { startedAt: at } : { finishedAt: at }),
            ...(detail === undefined ? {} : { detail }),
          });
          // Each step's change is an event too: the API's stream is the live view of a run.
          this.options.emit({
            type: "run.step",
            message: `${run.pipeline} #${run.id} ${name} ${state}${detail === undefined ? "" : `: ${detail}`}`,
            data: {
              run: run.id,
              pipeline: run.pipeline,
              step: name,
              state,
              detail: detail ?? null,
            },
          });
        },
        execute: async (step, signal): Promise<StepOutcome> => {
          if (step.kind === "run") {
            return this.command(
              step,
              run,
              dir,
              checkoutDir,
              pipeline.retention.maxLogBytes,
              signal,
            );
          }
          const maxLogBytes = pipeline.retention.maxLogBytes;
          if (step.kind === "build") {
            const log = stepLog(stepLogFile(this.options.runsDir, run.id, step.name), maxLogBytes);
            try {
              const version = await this.build(step.app, run, checkoutDir, log, signal);
              if (version === undefined) return { state: "cancelled" };
              releases.set(step.app, version);
              return { state: "passed", detail: `release ${version}` };
            } finally {
              log.close();
            }
          }
          return this.deliver(step, run, releases, checkoutDir, maxLogBytes, signal);
        },
      });
      return this.end(run, outcome);
    } finally {
      this.cancels.delete(run.id);
    }
  }

  /**
   * Builds the app at the run's checkout into a release and records it with the run;
   * undefined when the run was cancelled meanwhile.
   */
  private async build(
    app: string,
    run: RunRecord,
    checkout: string,
    log: StepLog,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    let version: string;
    try {
      version = await this.options.release.build({ app, checkout, run, log: log.line, signal });
    } catch (error) {
      if (signal.aborted) return undefined;
      log.line(`failed: ${message(error)}`);
      throw error;
    }
    this.options.store.setRelease(run.id, app, version);
    return version;
  }

  /** Rolls an environment out to the app's release of this run, after its promotion's gate. */
  private async deliver(
    step: DeployStep | PromoteStep,
    run: RunRecord,
    releases: Map<string, string>,
    checkout: string,
    maxLogBytes: number,
    signal: AbortSignal,
  ): Promise<StepOutcome> {
    const to = step.kind === "deploy" ? step.environment : step.to;
    let version = releases.get(step.app);
    let log: StepLog | undefined;
    try {
      if (version === undefined && step.kind === "deploy") {
        // Nothing earlier in the run built the app: the deploy releases the run's commit
        // itself, as a build step would, so that `test` then `deploy` is a whole pipeline.
        log = stepLog(stepLogFile(this.options.runsDir, run.id, step.name), maxLogBytes);
        version = await this.build(step.app, run, checkout, log, signal);
        if (version === undefined) return { state: "cancelled" };
        releases.set(step.app, version);
        log.line(`deploying ${step.app} ${version} to ${to}`);
      }
      if (version === undefined) {
        return {
          state: "failed",
          detail: `no release of ${step.app} to ${step.kind}: no step before it built or deployed one`,
        };
      }
      const approvedBy =
        step.kind === "promote" ? await this.promoteGate(step, run, version, signal) : undefined;
      if (signal.aborted) return { state: "cancelled" };
      const by = `pipeline ${run.pipeline} #${run.id} ${step.kind === "deploy" ? "deploy" : `promote from ${step.from}`}${approvedBy === undefined ? "" : `, approved by ${approvedBy}`}`;
      try {
        await this.options.release.deploy({
          app: step.app,
          environment: to,
          version,
          run,
          by,
          signal,
        });
      } catch (error) {
        if (signal.aborted) return { state: "cancelled" };
        log?.line(`failed: ${message(error)}`);
        throw error;
      }
      log?.line(`${step.app} ${version} deployed to ${to}`);
      return {
        state: "passed",
        detail: `${step.app} ${version} in ${to}${log === undefined ? "" : " (released by this step)"}`,
      };
    } finally {
      log?.close();
    }
  }

  private async command(
    step: RunStep,
    run: RunRecord,
    dir: string,
    checkout: string,
    maxLogBytes: number,
    signal: AbortSignal,
  ): Promise<StepOutcome> {
    const result = await runStep(step, {
      pipeline: run.pipeline,
      checkout,
      logFile: stepLogFile(this.options.runsDir, run.id, step.name),
      maxLogBytes,
      env: {
        CI: "true",
        BATON_PIPELINE: run.pipeline,
        BATON_RUN: String(run.id),
        BATON_COMMIT: run.commit,
        BATON_BRANCH: run.branch,
      },
      signal,
      cacheRoot: this.options.cacheRoot,
      artifactsDir: join(dir, "artifacts", step.name),
      ...(this.options.labels === undefined ? {} : { labels: this.options.labels }),
      sandboxed: this.options.workspaces !== undefined,
      // Recorded: a controller that dies leaves the step running; the next one stops it.
      onStarted: (started) => this.options.store.updateStep(run.id, step.name, { started }),
    });
    const tests = result.tests === undefined ? undefined : testCounts(result.tests);
    this.options.store.updateStep(run.id, step.name, {
      attempts: result.attempts,
      exitCode: result.exitCode,
      artifacts: result.artifacts,
      ...(tests === undefined ? {} : { tests }),
    });
    const failedTests =
      tests !== undefined && tests.failed > 0
        ? `${tests.failed} of ${tests.total} tests failed: ${tests.failures.slice(0, 5).join(", ")}${tests.failures.length > 5 ? ", …" : ""}`
        : undefined;
    const detail =
      result.status === "failed"
        ? (failedTests ?? `exited ${result.exitCode ?? "?"}`)
        : result.status === "timed-out"
          ? `killed after ${Math.round(step.timeoutMs / 1000)} s`
          : tests === undefined
            ? undefined
            : `${tests.total} tests, ${tests.failed} failed, ${tests.skipped} skipped`;
    return detail === undefined ? { state: result.status } : { state: result.status, detail };
  }

  /**
   * Waits for the approval (when manual) and for the release to have been healthy long
   * enough; resolves with who approved.
   */
  private async promoteGate(
    step: PromoteStep,
    run: RunRecord,
    version: string,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    let approvedBy: string | undefined;
    const { store } = this.options;
    if (step.approval === "manual") {
      store.updateStep(run.id, step.name, {
        state: "waiting",
        detail: `waiting for \`baton approve ${run.id}\``,
      });
      this.event(run, "run.waiting", `${run.pipeline} #${run.id}: ${step.name} waits for approval`);
      const by = await new Promise<string | undefined>((resolve) => {
        const key = `${run.id}/${step.name}`;
        this.approvals.set(key, resolve);
        signal.addEventListener("abort", () => resolve(undefined), { once: true });
      }).finally(() => this.approvals.delete(`${run.id}/${step.name}`));
      if (by === undefined) return undefined;
      approvedBy = by;
      store.updateStep(run.id, step.name, {
        state: "running",
        approvedBy: by,
        approvedAt: this.now(),
        detail: `approved by ${by}`,
      });
      this.event(run, "run.approved", `${run.pipeline} #${run.id}: ${step.name} approved by ${by}`);
    }
    if (step.healthyForMs <= 0) return approvedBy;
    const poll = this.options.healthPollMs ?? 1_000;
    while (!signal.aborted) {
      const since = await this.options.release.healthySince(step.app, step.from, version);
      const healthyFor = since === undefined ? 0 : this.now() - since;
      if (healthyFor >= step.healthyForMs) return approvedBy;
      store.updateStep(run.id, step.name, {
        state: "waiting",
        detail: `waiting until ${step.app} ${version} has been healthy in ${step.from} for ${Math.round(step.healthyForMs / 1000)} s`,
      });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(poll, step.healthyForMs - healthyFor));
        signal.addEventListener(
          "abort",
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
    return approvedBy;
  }

  private end(run: RunRecord, outcome: RunOutcome): RunOutcome {
    this.options.store.setState(run.id, outcome.state, outcome.reason ?? null);
    this.event(
      run,
      `run.${outcome.state}`,
      `${run.pipeline} #${run.id} ${outcome.state}${outcome.reason === undefined ? "" : `: ${outcome.reason}`}`,
    );
    return outcome;
  }

  private event(run: RunRecord, type: string, text: string): void {
    this.options.emit({
      type,
      message: text,
      data: { run: run.id, pipeline: run.pipeline, commit: run.commit },
    });
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

/** The store keeps counts and the failed tests' names (`name (classname)`). */
function testCounts(summary: TestSummary): TestCounts {
  return {
    total: summary.total,
    failed: summary.failed,
    skipped: summary.skipped,
    failures: summary.failures.map((f) =>
      f.classname === undefined || f.classname === "" ? f.name : `${f.name} (${f.classname})`,
    ),
  };
}

function short(commit: string): string {
  return commit.slice(0, 8);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A release step's log: Baton's own lines (the build's progress), appended as they come. */
interface StepLog {
  line(text: string): void;
  close(): void;
}

function stepLog(file: string, maxBytes: number): StepLog {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const fd = openSync(file, "a+", 0o600);
  const log = new CappedLog(fd, maxBytes);
  return {
    line: (text) => log.write(Buffer.from(`${text}\n`)),
    close: () => {
      try {
        log.close();
      } finally {
        closeSync(fd);
      }
    },
  };
}
