/**
 * The controller's delivery: what starts runs (a push its hook reports, polling, cron
 * schedules, `baton run`), the queue of each pipeline and branch (one run at a time, a newer
 * commit superseding older runs that have not deployed), and the runs' execution by the
 * pipeline runner. After a controller death, the runs it was executing are marked
 * interrupted — never resumed half-way — and queued runs go on.
 */
import type { PipelineRetention, PipelineSpec } from "../definition/index.js";
import { prepareWorkspaces, runWorkspace } from "../security/sandbox/index.js";
import type { NewEvent, RunRecord, RunStore, RunTrigger } from "../store/index.js";
import { DeliveryError } from "./errors.js";
import { BranchPoller } from "./git/branch-poller.js";
import { resolveBranch } from "./git/resolve-branch.js";
import { resolveRef } from "./git/resolve-ref.js";
import { type PushNotice, pushMatches } from "./hooks/push-match.js";
import { PipelineRunner, type ReleaseActions, type RunWorkspaces } from "./pipeline-runner.js";
import { RetentionSweep } from "./retention-sweep.js";
import { cacheDirectory, mirrorDirectory, runsDirectory } from "./run-paths.js";
import { DEFAULT_RETENTION } from "./run-retention.js";
import { ScheduleWatch } from "./schedule/schedule-watch.js";
import type { StartedCommand } from "./steps/attempt.js";
import { stopLeftover } from "./steps/leftovers.js";
import { supersededRuns } from "./supersede.js";
import type { Timers } from "./timers.js";

export interface DeliveryServiceOptions {
  readonly store: RunStore;
  readonly emit: (event: NewEvent) => void;
  readonly stateDir: string;
  readonly release: ReleaseActions;
  /** Labels for containers that steps start (the controller's own). */
  readonly labels?: readonly string[];
  /** The clock and timers of the retention sweep (the real ones by default). */
  readonly timers?: Timers;
  /** Between periodic retention sweeps (1 h); one also follows each run's end. */
  readonly retentionSweepMs?: number;
}

/** How long stopping waits for the runs under way to settle. */
const STOP_WAIT_MS = 10_000;

/** A source polled only when its hook reports a push (`poll: false`): about 24 days. */
const HOOK_ONLY_POLL_MS = 2 ** 31 - 1;

export class DeliveryService {
  private pipelines: Readonly<Record<string, PipelineSpec>> = {};
  /** Pipelines of the definition that another environment's controller runs: name → home. */
  private elsewhere: Readonly<Record<string, string>> = {};
  private readonly runner: PipelineRunner;
  private readonly poller: BranchPoller;
  private readonly schedules: ScheduleWatch;
  private readonly retention: RetentionSweep;
  /** Each pipeline's retention as the definition says, this environment's or not. */
  private retentionOf: ReadonlyMap<string, PipelineRetention> = new Map();
  /** The end of each pipeline and branch's queue: its runs execute one after the other. */
  private readonly queues = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(private readonly options: DeliveryServiceOptions) {
    const mirrorRoot = mirrorDirectory(options.stateDir);
    const workspaces: RunWorkspaces = {
      of: (runId) => runWorkspace(options.stateDir, runId),
      prepare: () => prepareWorkspaces(options.stateDir),
    };
    this.runner = new PipelineRunner({
      store: options.store,
      emit: options.emit,
      runsDir: runsDirectory(options.stateDir),
      cacheRoot: cacheDirectory(options.stateDir),
      mirrorRoot,
      release: options.release,
      ...(options.labels === undefined ? {} : { labels: options.labels }),
      workspaces,
    });
    this.poller = new BranchPoller({
      mirrorRoot,
      onCommit: async (moved) => {
        await this.start(moved.id, moved.head.commit, moved.head.subject, "poll", "poll");
      },
      onError: (id, _source, error) => this.failed(id, error),
    });
    this.retention = new RetentionSweep({
      store: options.store,
      runsDir: runsDirectory(options.stateDir),
      workspaceOf: workspaces.of,
      emit: options.emit,
      limitsOf: (pipeline) => this.retentionOf.get(pipeline) ?? DEFAULT_RETENTION,
      busy: (runId) => this.runner.executing(runId),
      ...(options.timers === undefined ? {} : { timers: options.timers }),
      ...(options.retentionSweepMs === undefined ? {} : { everyMs: options.retentionSweepMs }),
    });
    this.schedules = new ScheduleWatch({
      onFire: async (fire) => {
        await this.trigger(fire.pipeline, { trigger: "schedule", by: `schedule ${fire.cron}` });
      },
      onError: (pipeline, error) => this.failed(pipeline, error),
    });
  }

  /**
   * After a (re)start: what a dead controller was executing is interrupted; queued runs are
   * executed in order.
   */
  resume(): void {
    const interrupted = this.options.store.interruptRunning(
      "the controller stopped while it ran; start it again with `baton run`",
    );
    for (const started of interrupted.started) {
      void stopLeftover(started as StartedCommand).catch((error: unknown) =>
        this.failed("leftover", error),
      );
    }
    for (const id of interrupted.runs) {
      this.options.emit({
        type: "run.interrupted",
        message: `run #${id} was interrupted: the controller stopped while it ran`,
        data: { run: id },
      });
    }
    for (const run of this.options.store.active()) this.enqueue(run);
  }

  /**
   * The pipelines to watch (after each apply): polls and schedules follow them. Only those
   * at home in `environment` run here; the controller of their home environment runs the
   * others (which then reach this environment through its API).
   */
  update(pipelines: Readonly<Record<string, PipelineSpec>>, environment?: string): void {
    const mine: Record<string, PipelineSpec> = {};
    const elsewhere: Record<string, string> = {};
    for (const [name, pipeline] of Object.entries(pipelines)) {
      if (pipeline.home === undefined || pipeline.home === environment) mine[name] = pipeline;
      else elsewhere[name] = pipeline.home;
    }
    this.pipelines = mine;
    this.elsewhere = elsewhere;
    this.retentionOf = new Map(Object.values(pipelines).map((p) => [p.name, p.retention]));
    // Only once the definition is known: before, every pipeline would get the defaults.
    this.retention.start();
    for (const id of this.poller.watching()) if (mine[id] === undefined) this.poller.unwatch(id);
    for (const name of Object.keys(elsewhere)) this.schedules.set(name, []);
    for (const pipeline of Object.values(mine)) {
      const { triggers } = pipeline;
      if (triggers.pollMs > 0 || triggers.push) {
        const last = this.options.store.list(pipeline.name, 1)[0];
        this.poller.watch(pipeline.name, pipeline.source, {
          pollMs: triggers.pollMs > 0 ? triggers.pollMs : HOOK_ONLY_POLL_MS,
          // Commits pushed while no controller ran still start a run.
          ...(last === undefined ? {} : { lastSeen: last.commit }),
        });
      } else this.poller.unwatch(pipeline.name);
      try {
        this.schedules.set(pipeline.name, triggers.schedule);
      } catch (error) {
        this.failed(pipeline.name, error);
      }
    }
  }

  /** A run of the pipeline at `ref` (its branch's head by default), queued now. */
  async trigger(
    name: string,
    options: { ref?: string; trigger?: RunTrigger; by: string },
  ): Promise<RunRecord> {
    const pipeline = this.require(name);
    const mirrorRoot = mirrorDirectory(this.options.stateDir);
    const head =
      options.ref === undefined
        ? await resolveBranch(pipeline.source, mirrorRoot)
        : await resolveRef(pipeline.source, options.ref, mirrorRoot);
    return this.start(name, head.commit, head.subject, options.trigger ?? "manual", options.by);
  }

  /** A push the repository's hook reported: the pipelines it concerns look at their branch now. */
  async notifyPush(notice: PushNotice): Promise<string[]> {
    const concerned = Object.values(this.pipelines).filter(
      (p) => p.triggers.push && pushMatches(p.source, notice),
    );
    await Promise.all(concerned.map((p) => this.poller.pollNow(p.name)));
    return concerned.map((p) => p.name);
  }

  approve(runId: number, by: string): boolean {
    return this.runner.approve(runId, by);
  }

  /** Cancels a queued or running run; false when it has already ended. */
  cancel(runId: number, reason: string): boolean {
    const run = this.options.store.get(runId);
    if (run === undefined || (run.state !== "queued" && run.state !== "running")) return false;
    this.options.store.setState(runId, "cancelled", reason);
    this.runner.cancel(runId);
    this.options.emit({
      type: "run.cancelled",
      message: `${run.pipeline} #${runId} cancelled: ${reason}`,
      data: { run: runId, pipeline: run.pipeline },
    });
    return true;
  }

  /** Stops the triggers; runs under way end as interrupted (their commands are killed). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([this.poller.stop(), this.schedules.stop(), this.retention.stop()]);
    for (const run of this.options.store.active()) {
      if (run.state !== "running") continue;
      this.options.store.setState(
        run.id,
        "interrupted",
        "the controller was stopped during the run",
      );
      this.runner.cancel(run.id);
    }
    // A command is killed at once; a build or a rollout may take longer to notice: the
    // controller does not wait for them past a bound (their runs are marked already).
    await Promise.race([
      Promise.all(this.queues.values()),
      new Promise((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref()),
    ]);
  }

  private async start(
    name: string,
    commit: string,
    subject: string,
    trigger: RunTrigger,
    by: string,
  ): Promise<RunRecord> {
    const pipeline = this.require(name);
    const { store } = this.options;
    const run = store.create({
      pipeline: name,
      branch: pipeline.source.branch,
      commit,
      subject,
      trigger,
      createdBy: by,
      steps: pipeline.steps.map((s) => ({ name: s.name, kind: s.kind })),
    });
    this.options.emit({
      type: "run.queued",
      message: `${name} #${run.id} queued for ${commit.slice(0, 8)} (${trigger})`,
      data: { run: run.id, pipeline: name, commit },
    });
    const active = store.active().map((r) => ({ run: r, steps: store.steps(r.id) }));
    for (const id of supersededRuns(run, active, pipeline.concurrency.cancelSuperseded)) {
      this.cancel(id, `superseded by #${run.id} (${commit.slice(0, 8)})`);
    }
    this.enqueue(run);
    return run;
  }

  private enqueue(run: RunRecord): void {
    const key = `${run.pipeline}\u0000${run.branch}`;
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous.then(async () => {
      const current = this.options.store.get(run.id);
      const pipeline = this.pipelines[run.pipeline];
      if (this.stopped || current?.state !== "queued") return;
      if (pipeline === undefined) {
        this.cancel(run.id, `the definition no longer has the pipeline ${run.pipeline}`);
        return;
      }
      await this.runner.execute(pipeline, current);
      // Beside the queue, not in it: the next run starts while the sweep removes files.
      this.retention.request();
    });
    this.queues.set(key, next);
  }

  private require(name: string): PipelineSpec {
    const pipeline = this.pipelines[name];
    const home = this.elsewhere[name];
    if (home !== undefined) {
      throw new DeliveryError(
        "pipeline-elsewhere",
        `pipeline ${name} runs in the controller of ${home} (where it first deploys), not in this one`,
        `run it there: \`baton run ${name} --env ${home}\``,
      );
    }
    if (pipeline === undefined) {
      const known = Object.keys(this.pipelines);
      throw new DeliveryError(
        "pipeline-not-found",
        `there is no pipeline named ${JSON.stringify(name)}`,
        known.length > 0 ? `pipelines: ${known.join(", ")}` : "declare one under `pipelines:`",
      );
    }
    return pipeline;
  }

  private failed(pipeline: string, error: unknown): void {
    this.options.emit({
      type: "pipeline.error",
      message: `${pipeline}: ${error instanceof Error ? error.message : String(error)}`,
      data: { pipeline },
    });
  }
}
