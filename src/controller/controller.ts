import { join } from "node:path";
import type { FactsAnswer, ParityAnswer } from "../api/hosts.js";
import type { SecretsAnswer } from "../api/secrets.js";
import type { ControllerStatus } from "../api/status.js";
import { AppFleet } from "../apps/app-fleet.js";
import type { PassPoint } from "../apps/apps-reconciler.js";
import { RetryError } from "../apps/bad-revision.js";
import { explainAppChange, storedSpecs } from "../apps/change-details.js";
import { appHistory } from "../apps/history-query.js";
import { freePort } from "../apps/ports.js";
import { ProxySupervisor } from "../apps/proxy-supervisor.js";
import { RollbackError } from "../apps/rollback-target.js";
import type { AppHistory, RolloutRecord, RolloutStatus } from "../apps/rollout-types.js";
import { SnapshotError, Snapshots } from "../apps/snapshots.js";
import type { AppSpec, Definition } from "../definition/index.js";
import { DeliveryService } from "../delivery/index.js";
import { buildPlan, diff, execute, type Plan, withFieldChanges } from "../engine/index.js";
import {
  connectDeclaredHost,
  DriftWatch,
  gatherFacts,
  gatherHostFacts,
  type HostOutcome,
  hostPass,
  hostsOfEnvironment,
  parityReport,
  selectHosts,
} from "../hosts/index.js";
import {
  type BuildTarget,
  buildTargetOf,
  engineImageCommands,
  ImageError,
  pullMissingImages,
  releaseDigestOf,
  resolveReleases,
  withImageCommands,
} from "../images/index.js";
import { appReleases, type ReleasesAnswer } from "../images/releases-query.js";
import { MetricsStore } from "../observe/index.js";
import type { Driver } from "../runtime/driver.js";
import { type DriverRegistry, localDrivers, runtimesOf } from "../runtime/registry.js";
import {
  containerOwner,
  digestKey,
  pruneReplicaFiles,
  removeAllReplicaFiles,
  removeReplicaFiles,
  SecretValues,
  sealSource,
  secretEnvOf,
  secretFilesOf,
  secretsSummary,
  unsealSecrets,
  withSecretDigests,
  withSecretValues,
  writeReplicaFiles,
} from "../security/secrets/index.js";
import {
  BlobStore,
  type EventRecord,
  type GenerationRecord,
  type NewRelease,
  type ReleaseRecord,
  type RunStore,
  type SqliteStore,
} from "../store/index.js";
import { AlertService } from "./alert-service.js";
import { sweepBlobs } from "./blob-sweep.js";
import { ControllerError } from "./errors.js";
import { EventBus } from "./event-bus.js";
import { EventMetrics } from "./event-metrics.js";
import { MetricsSampler, sampleIntervalFromEnv } from "./metrics-sampler.js";
import { passFailuresFromEnv } from "./pass-failure-env.js";
import { pipelineReleases } from "./pipeline-releases.js";
import type { Reconciler } from "./reconciler.js";
import { importRelease, type ReleaseHealth, type ReleaseOrigin } from "./release-exchange.js";
import { WorkQueue } from "./work-queue.js";

export type { ControllerStatus };

export interface ControllerOptions {
  readonly stateDir: string;
  readonly definition: Definition;
  readonly appliedBy: string;
  /** The API's address, known before the controller claims the state directory. */
  readonly api: string;
  /** Missed events and drift are caught by a full pass this often. */
  readonly resyncMs?: number;
  /** How often metrics are sampled, ms; 0 turns sampling off. Else BATON_METRICS_INTERVAL, else 1 s. */
  readonly metricsIntervalMs?: number;
}

export interface ApplyResult {
  readonly generation: GenerationRecord;
  /** false when the same definition was applied before: nothing to record, maybe nothing to do. */
  readonly created: boolean;
  readonly plan: Plan;
  /** When asked for: each host's outcome, from the pass that ran before the apps moved. */
  readonly hosts?: HostOutcome[];
}

/**
 * The control loop of one state directory: owns the store lease, the runtime, the proxy
 * client and the reconcilers; applies definitions through the engine's plan/execute and
 * keeps everything converged through a level-based work queue woken by events and resyncs.
 */
export class Controller {
  readonly events: EventBus;
  private readonly queue: WorkQueue;
  private readonly reconcilers: readonly Reconciler[];
  private readonly resyncTimer: NodeJS.Timeout;
  /** The applied definition, built apps pinned to their release (what the reconcilers run). */
  private definition: Definition;
  /** The applied definition as given, unpinned: `deploy` pins it again to another release. */
  private given: Definition;
  private generation: GenerationRecord | undefined;
  /** The applied definition's secrets, decrypted: in memory only, never recorded. */
  private secrets = SecretValues.none;
  private readonly startedAt = Date.now();
  private stopping = false;
  /** Checks the hosts for drift on each environment's interval (and heals where asked). */
  readonly hostWatch: DriftWatch;
  /** Pipelines: what starts runs, their queues, their execution. */
  readonly delivery: DeliveryService;
  private deliveryResumed = false;

  /**
   * The time series Baton samples (replicas, proxy, hosts, itself), in their own SQLite
   * file beside the state store: `GET /metrics`, `baton metrics` and alert rules read them.
   */
  readonly metrics: MetricsStore;
  /** What fills `metrics`: samples every second, hosts every 15 s. */
  readonly sampler: MetricsSampler;

  /** Alert rules, their notifications and silences. */
  readonly alerts: AlertService;

  /** What the images of container apps without `command` run, read from the engine. */
  private readonly imageCommands = engineImageCommands();

  /** Pipeline runs as recorded, for the API. */
  get runs(): RunStore {
    return this.store.runs;
  }

  private constructor(
    private readonly options: ControllerOptions,
    private readonly store: SqliteStore,
    private readonly drivers: DriverRegistry,
    private readonly proxy: ProxySupervisor,
    private readonly apps: AppFleet,
    events: EventBus,
    private readonly snapshots: Snapshots,
  ) {
    this.events = events;
    this.metrics = MetricsStore.open(options.stateDir, {
      retention: options.definition.metrics.retention,
    });
    this.alerts = new AlertService({
      store: store.alerts,
      metrics: this.metrics,
      emit: (event) => this.events.emit(event),
      subscribe: (listener) => this.events.subscribe(listener),
      apps: () => this.status().apps,
    });
    this.definition = options.definition;
    this.given = options.definition;
    this.reconcilers = apps.reconcilers;
    this.queue = new WorkQueue(
      (key) => this.reconcileKey(key),
      (key, error) =>
        this.events.emit({
          type: "reconcile.error",
          message: `reconciling ${key} failed: ${(error as Error).message}; retrying`,
        }),
    );
    this.resyncTimer = setInterval(() => this.resync(), options.resyncMs ?? 10_000);
    this.resyncTimer.unref();
    this.delivery = new DeliveryService({
      store: store.runs,
      emit: (event) => this.events.emit(event),
      stateDir: options.stateDir,
      labels: [`baton.state=${options.stateDir}`],
      release: pipelineReleases({
        definition: () => this.given,
        stateDir: options.stateDir,
        releases: store.releases,
        deploy: (app, version, by) => this.deploy(app, version, by),
        rollout: (id) => store.rollouts.get(id),
        releaseHealth: (app) => this.releaseHealth(app),
        steps: (runId) => store.runs.steps(runId),
        subscribe: (listener) => this.events.subscribe(listener),
      }),
    });
    this.sampler = this.metricsSampler(options);
    this.hostWatch = new DriftWatch({
      store: store.hosts,
      emit: (event) => this.events.emit(event),
      connect: (host, definition) => connectDeclaredHost(host, definition.hosts),
      gatherFacts,
    });
  }

  /**
   * Starts the controller of a state directory whose lease `store` holds (`claimState`):
   * adopts what runs, then applies `options.definition`. On failure the lease stays with
   * the caller, who lets it go.
   */
  static async start(
    given: ControllerOptions,
    store: SqliteStore,
  ): Promise<{ controller: Controller; applied: ApplyResult }> {
    // Before replicas are adopted: their revisions were made with the secrets' digests.
    const secrets = await unsealSecrets(given.definition);
    const options: ControllerOptions = {
      ...given,
      definition: withSecretDigests(
        withSecretValues(given.definition, secrets),
        secrets,
        digestKey(given.stateDir),
      ),
    };
    // Containers and services of a previous controller are adopted even if the definition
    // no longer has such apps: their drivers are there whenever an engine may answer.
    const drivers = localDrivers({
      stateDir: options.stateDir,
      project: options.definition.project,
      wanted: runtimesOf(options.definition),
    });
    const events = new EventBus((event) => store.appendEvent(event));
    let controller: Controller | undefined;
    const proxy = await ProxySupervisor.start(options.stateDir, (oldPid, newPid) => {
      events.emit({
        type: "proxy.restarted",
        message: `the proxy (pid ${oldPid}) was gone; started it again (pid ${newPid})`,
        data: { oldPid, newPid },
      });
      controller?.apps.resendRoutes();
    });
    const snapshots = new Snapshots(options.stateDir, new BlobStore(options.stateDir));
    const justWritten = new Map<string, number>();
    const apps = new AppFleet({
      drivers,
      proxy,
      records: store,
      rollouts: store.rollouts,
      snapshots,
      scaleOverride: (app) => store.scaleOverride(app)?.replicas,
      emit: (event) => events.emit(event),
      requeue: (key, afterMs) => controller?.enqueue(key, afterMs ?? 0),
      allocatePort: freePort,
      baseEnv: inheritedEnv(),
      secretEnv: (spec) => secretEnvOf(spec, controller?.secrets ?? secrets),
      secretFiles: (spec, replica) => {
        const files = secretFilesOf(spec, controller?.secrets ?? secrets);
        if (files.length === 0) return new Map();
        // Replicas that exited on their own leave their folder: gone at the next start of a
        // replica, unless recorded or just written (a replica starting is not recorded yet).
        const now = Date.now();
        justWritten.set(replica, now);
        for (const [id, at] of justWritten) if (now - at > 60_000) justWritten.delete(id);
        const live = new Set([...justWritten.keys(), ...store.replicas().map((r) => r.id)]);
        pruneReplicaFiles(options.stateDir, live);
        const dir = writeReplicaFiles(options.stateDir, replica, files, containerOwner(spec));
        return new Map(files.map((f) => [f.path, join(dir, f.path)]));
      },
      dropSecretFiles: (replica) => removeReplicaFiles(options.stateDir, replica),
      groupSecretFiles: (spec) =>
        secretFilesOf(spec, controller?.secrets ?? secrets).map((file) => ({
          ...file,
          secret: spec.secretFiles?.[file.path]?.secret ?? "",
        })),
      ...withPassFailures(),
    });
    controller = new Controller(options, store, drivers, proxy, apps, events, snapshots);
    controller.secrets = secrets;
    await controller.adoptRunning();
    controller.sampler.start();
    await controller.adoptGroups();
    apps.watch();
    for (const driver of drivers.all()) void controller.watchDriver(driver);
    events.emit({
      type: "controller.started",
      message: `controller started (pid ${process.pid}, api ${options.api})`,
      data: { pid: process.pid, api: options.api },
    });
    const applied = await controller.apply(options.definition, options.appliedBy);
    if (!applied.created) void controller.sweep();
    return { controller, applied };
  }

  enqueue(key: string, afterMs = 0): void {
    if (this.stopping) return;
    this.queue.addAfter(key, afterMs);
  }

  /** Configures the hosts of this controller's environment as the applied definition says. */
  applyHosts(): Promise<HostOutcome[]> {
    return this.hostWatch.applyNow();
  }

  /**
   * `baton drift [targets]`: the hosts of this controller's environment (or those named)
   * compared with the applied definition through the drift watch, so that what differs is an
   * event like any other and fires the `drift` alert.
   */
  checkDrift(targets: readonly string[]): Promise<HostOutcome[]> {
    const definition = this.definition;
    return this.hostWatch.checkNow(selectHosts(definition, targets, definition.environment));
  }

  /** `baton plan` of a definition with hosts: what a pass over them would change; changes nothing. */
  async planHosts(given: Definition): Promise<HostOutcome[]> {
    const definition = withSecretValues(given, await unsealSecrets(given));
    return hostPass(definition, this.store.hosts, {
      apply: false,
      ...(definition.environment === undefined ? {} : { environment: definition.environment }),
    });
  }

  /** `baton facts [targets]`: the applied definition's hosts, read now and kept in the state. */
  facts(targets: readonly string[]): Promise<FactsAnswer> {
    return gatherHostFacts(this.definition, this.store.hosts, targets);
  }

  /** `baton parity LEFT RIGHT`: the hosts of two environments, compared now. */
  parity(left: string, right: string): Promise<ParityAnswer> {
    return parityReport(this.definition, this.store.hosts, left, right);
  }

  /**
   * Records the definition as a generation and moves every resource toward it. With `hosts`,
   * the environment's hosts are configured first (through the drift watch, so never beside
   * one of its passes), and only then do the apps move: an app never starts on a host its
   * definition has not configured yet.
   */
  async apply(
    given: Definition,
    appliedBy: string,
    options: { hosts?: boolean } = {},
  ): Promise<ApplyResult> {
    this.refuseEnvironmentSwitch(given);
    // Before anything is recorded: secrets that cannot be decrypted change nothing.
    const secrets = await unsealSecrets(given);
    const withSecrets = withSecretDigests(
      withSecretValues(given, secrets),
      secrets,
      digestKey(this.options.stateDir),
    );
    // Before anything is recorded: an app with no release to run changes nothing.
    const pinned = this.pinReleases(withSecrets, "throw");
    await this.pullReleaseImages(pinned);
    const definition = await withImageCommands(pinned, this.imageCommands);
    // Before anything is recorded: files that cannot be copied change nothing.
    await this.captureSnapshots(definition);
    const { record, created } = this.store.recordGeneration({
      hash: definition.hash,
      file: definition.file,
      // Sealed: the text may hold secret file contents and webhook URLs.
      source: await sealSource(definition.source, definition.environment),
      appliedBy,
      ...(definition.environment === undefined ? {} : { environment: definition.environment }),
      ...(definition.content === undefined ? {} : { content: definition.content }),
    });
    this.clearStaleScaleOverrides(definition);
    const plan = this.planNow(definition);
    this.definition = definition;
    this.given = given;
    this.secrets = secrets;
    this.generation = record;
    this.hostWatch.update(definition);
    this.alerts.update(definition);
    this.delivery.update(definition.pipelines, definition.environment);
    this.metrics.setRetention(definition.metrics.retention);
    this.sampler.reconfigure(this.samplingIntervals(definition));
    if (!this.deliveryResumed) {
      // Once the pipelines are known: runs a dead controller left are settled, queued ones go on.
      this.deliveryResumed = true;
      this.delivery.resume();
    }
    const inEnvironment =
      definition.environment === undefined ? "" : ` (environment ${definition.environment})`;
    this.events.emit({
      type: "definition.applied",
      message: created
        ? `generation ${record.id} of ${definition.file}${inEnvironment} applied by ${appliedBy}`
        : `${definition.file}${inEnvironment} unchanged since generation ${record.id}`,
      data: {
        generation: record.id,
        // The old name, kept for one release.
        revision: record.id,
        hash: record.hash,
        created,
        environment: definition.environment ?? null,
      },
    });
    const hosts = options.hosts === true ? await this.hostWatch.applyNow() : undefined;
    this.apps.setAppliedBy(appliedBy);
    const byKind = new Map(this.reconcilers.map((r) => [r.kind, r]));
    // Unchanged resources take the new definition too (the executor skips them): their
    // reconcilers must know the desired spec, e.g. after adopting replicas at start.
    for (const step of plan.steps) {
      if (step.change.type === "unchanged") {
        await byKind.get(step.change.key.kind)?.apply(step.change, definition);
      }
    }
    const result = await execute(
      plan,
      async (step) => {
        await byKind.get(step.change.key.kind)?.apply(step.change, definition);
      },
      { parallelism: 4 },
    );
    if (!result.ok) {
      const failures = Object.entries(result.steps)
        .filter(([, s]) => s.status === "failed")
        .map(([id, s]) => `${id}: ${(s.error as Error | undefined)?.message ?? s.reason ?? ""}`);
      this.events.emit({ type: "apply.failed", message: `apply failed: ${failures.join("; ")}` });
    }
    // Unchanged resources get a pass too: applying is also how drift is repaired.
    this.resync();
    // A new generation may leave the content of the oldest one kept behind.
    if (created) void this.sweep();
    return {
      generation: record,
      created,
      plan: await this.explain(plan, definition),
      ...(hosts === undefined ? {} : { hosts }),
    };
  }

  /** Every secret value the applied definition uses: what logs and outputs mask. */
  secretValues(): string[] {
    return this.secrets.all();
  }

  /** `GET /api/v1/secrets`: names, who and when, who uses each; never a value. */
  secretsSummary(): SecretsAnswer {
    return secretsSummary(this.definition);
  }

  /** What applying `definition` would change now, field by field; changes nothing. */
  async plan(given: Definition): Promise<Plan> {
    const secrets = await unsealSecrets(given);
    const withSecrets = withSecretDigests(
      withSecretValues(given, secrets),
      secrets,
      digestKey(this.options.stateDir),
    );
    const definition = await withImageCommands(
      this.pinReleases(withSecrets, "keep"),
      this.imageCommands,
    );
    return this.explain(this.planNow(definition), definition);
  }

  /** The plan as the reconcilers see the world at this instant (no await: nothing moves). */
  private planNow(definition: Definition): Plan {
    const desired = this.reconcilers.flatMap((r) => r.desired(definition));
    const observed = this.reconcilers.flatMap((r) => r.observed());
    return buildPlan(diff(desired, observed));
  }

  /** Each replaced app's field and file changes, from the stored spec of what runs. */
  private explain(plan: Plan, definition: Definition): Promise<Plan> {
    const sources = {
      specOf: storedSpecs((app, revision) => this.store.rollouts.revision(app, revision)),
      snapshots: this.snapshots,
    };
    return withFieldChanges(plan, (change) => explainAppChange(change, definition, sources));
  }

  scale(app: string, replicas: number): void {
    const spec = this.requireApp(app);
    this.store.setScaleOverride(app, replicas, spec.replicas);
    this.events.emit({
      type: "app.scale_requested",
      app,
      message: `${app} scaled to ${replicas} (definition says ${spec.replicas})`,
      data: { replicas, definitionReplicas: spec.replicas },
    });
    this.apps.rescale(app);
  }

  /** Every rollout of an app, newest first: `baton history APP`. */
  history(app: string): AppHistory {
    const running = this.status().apps.find((a) => a.name === app)?.revision;
    return appHistory(this.store.rollouts, app, {
      defined: this.definition.apps[app] !== undefined,
      ...(running === undefined ? {} : { running }),
    });
  }

  /** An app's releases, which one is deployed and which serves: `baton releases APP`. */
  releases(app: string): ReleasesAnswer {
    return appReleases(this.store, app);
  }

  /** The current (else last) rollout of an app with live progress: `baton rollout status`. */
  rolloutStatus(app: string): RolloutStatus {
    this.requireApp(app);
    return this.apps.rolloutStatus(app);
  }

  /**
   * Rolls an app to an earlier revision (`to`, else the one before the current), as a
   * rollout like any other; it holds until the definition changes the app's revision.
   */
  async rollback(app: string, to: string | undefined, by: string): Promise<RolloutRecord> {
    const spec = this.requireApp(app);
    let rollout: RolloutRecord;
    try {
      rollout = await this.apps.rollback(app, to, by);
    } catch (error) {
      if (error instanceof RollbackError) {
        throw new ControllerError(error.code, error.message, error.hint);
      }
      throw error;
    }
    if (spec.build !== undefined || spec.container === undefined) {
      await this.deployReleaseOf(app, rollout.toRevision, by);
    }
    return rollout;
  }

  /**
   * `baton rollout retry`: rolls the definition's revision of an app out again, though a
   * failed rollout marked it bad — for failures the definition could not fix.
   */
  async retryRollout(app: string, by: string): Promise<RolloutRecord> {
    this.requireApp(app);
    try {
      return await this.apps.retry(app, by);
    } catch (error) {
      if (error instanceof RetryError) {
        throw new ControllerError(error.code, error.message, error.hint);
      }
      throw error;
    }
  }

  /**
   * A built app rolled back runs an earlier release: that release becomes the deployed one,
   * so a restart or a later build does not roll it forward again behind the user's back.
   */
  private async deployReleaseOf(app: string, revision: string, by: string): Promise<void> {
    const stored = this.store.rollouts.revision(app, revision);
    if (stored === undefined) return;
    const digest = releaseDigestOf(JSON.parse(stored.spec) as Partial<AppSpec>);
    const release = this.store.releases.list(app).find((r) => r.digest === digest);
    if (release === undefined) return;
    this.store.releases.setDesired(app, release.version, by);
    await this.apply(this.given, by);
  }

  /**
   * How the running definition builds an app, and which file it came from: `baton deploy APP`
   * builds from this when the file on disk is the one applied, instead of parsing it again.
   */
  buildTarget(app: string): { target: BuildTarget; file: string } {
    const spec = this.requireApp(app);
    if (spec.build === undefined) throw notBuilt(app);
    return { target: buildTargetOf(this.definition, app), file: this.definition.file };
  }

  /**
   * `baton deploy APP --release V`: the app runs that release from now on (until another
   * deploy), through a rollout like any other. rollout is null when it already ran it.
   */
  async deploy(
    app: string,
    version: string,
    by: string,
  ): Promise<{ release: ReleaseRecord; rollout: RolloutRecord | null }> {
    const spec = this.requireApp(app);
    // A process app's releases are artifacts of its files; an app naming its image has none.
    if (spec.build === undefined && spec.container !== undefined) throw notBuilt(app);
    const release = this.store.releases.find(app, version);
    if (release === undefined) {
      const known = this.store.releases.list(app, 5).map((r) => r.version);
      throw new ControllerError(
        "deploy.unknown_release",
        `${app} has no release ${JSON.stringify(version)}`,
        known.length > 0
          ? `recent releases: ${known.join(", ")} (\`baton releases ${app}\` lists all)`
          : spec.build === undefined
            ? `a pipeline step \`build: ${app}\` releases its files`
            : `build one with \`baton build ${app}\``,
      );
    }
    const before = this.store.rollouts.active(app)?.id;
    const previous = this.store.releases.desired(app);
    const pin = this.store.rollouts.pin(app);
    this.store.releases.setDesired(app, version, by);
    // A deploy says what runs: an earlier `baton rollback` of the app no longer holds.
    this.store.rollouts.clearPin(app);
    try {
      await this.apply(this.given, by);
    } catch (error) {
      // Refused (its image cannot be had, say): the app stays deployed as it was.
      if (previous === undefined) this.store.releases.clearDesired(app);
      else this.store.releases.setDesired(app, previous.version, previous.setBy);
      if (pin !== undefined) this.store.rollouts.setPin(app, pin.revision, pin.baseRevision);
      throw error;
    }
    this.events.emit({
      type: "release.deployed",
      app,
      message: `${app} release ${version} (${release.digest}) deployed by ${by}`,
      data: { version, digest: release.digest },
    });
    const active = this.store.rollouts.active(app);
    return { release, rollout: active !== undefined && active.id !== before ? active : null };
  }

  /**
   * Records a release a client built and pushed (`baton build`, `baton deploy` without
   * `--release`): written by this controller, the one process that holds the state, and told
   * on its event stream. A version recorded before is answered as it was (`created` false).
   */
  recordRelease(release: NewRelease): { release: ReleaseRecord; created: boolean } {
    const spec = this.requireApp(release.app);
    if (release.kind === "image" && spec.build === undefined) throw notBuilt(release.app);
    const known = this.store.releases.find(release.app, release.version);
    if (known !== undefined && known.digest !== release.digest) {
      throw new ControllerError(
        "release.conflict",
        `${release.app} ${release.version} is recorded as ${known.digest}, not ${release.digest}: a release never changes`,
        "build it again: the same commit and content give the same version and digest",
      );
    }
    const { record, created } = this.store.releases.record(release);
    if (created) {
      this.events.emit({
        type: "release.recorded",
        app: record.app,
        message: `${record.app} release ${record.version} (${record.digest}) built and pushed by ${record.createdBy}`,
        data: { version: record.version, digest: record.digest, commit: record.commit },
      });
    }
    return { release: record, created };
  }

  /**
   * Records a release another environment's controller built (a promotion): the same
   * version and digest, from then on deployable here like one built here.
   */
  async importRelease(
    release: NewRelease,
    origin: ReleaseOrigin,
  ): Promise<{ release: ReleaseRecord; created: boolean }> {
    const spec = this.requireApp(release.app);
    let outcome: { release: ReleaseRecord; created: boolean };
    try {
      outcome = await importRelease(
        this.store.releases,
        this.options.stateDir,
        this.given,
        spec,
        release,
        origin,
      );
    } catch (error) {
      if (error instanceof ImageError) {
        throw new ControllerError(error.code, error.message, error.hint);
      }
      throw error;
    }
    if (outcome.created) {
      this.events.emit({
        type: "release.imported",
        app: release.app,
        message: `${release.app} release ${release.version} (${release.digest}) promoted from ${origin.environment}`,
        data: { version: release.version, digest: release.digest, from: origin.environment },
      });
    }
    return outcome;
  }

  /**
   * The release an app is deployed at here and since when it has served healthily: a
   * promotion's `healthyFor` reads it. `rollout` is that rollout when given, else the latest.
   */
  releaseHealth(app: string, rolloutId?: number): ReleaseHealth {
    this.requireApp(app);
    const desired = this.store.releases.desired(app) ?? null;
    const last = this.store.rollouts.history(app, 1)[0];
    const healthySince =
      desired !== null && last?.state === "rolled-out" ? (last.finishedAt ?? null) : null;
    const rollout =
      rolloutId === undefined ? (last ?? null) : (this.store.rollouts.get(rolloutId) ?? null);
    return { app, desired, healthySince, rollout: rollout?.app === app ? rollout : null };
  }

  /** A release's image missing from the engine is pulled from its registry before it is needed. */
  private async pullReleaseImages(definition: Definition): Promise<void> {
    if (!this.drivers.all().some((driver) => driver.capabilities.localImages)) return;
    try {
      const pulled = await pullMissingImages(definition);
      for (const image of pulled) {
        this.events.emit({ type: "image.pulled", message: `pulled ${image}`, data: { image } });
      }
    } catch (error) {
      if (error instanceof ImageError) {
        throw new ControllerError(error.code, error.message, error.hint);
      }
      // An engine that does not answer: the runtime reports it when replicas start.
    }
  }

  /** Built apps' images pinned by digest; "keep" leaves an app without release unpinned. */
  private pinReleases(definition: Definition, missing: "throw" | "keep"): Definition {
    try {
      return resolveReleases(definition, this.store.releases, { missing });
    } catch (error) {
      if (error instanceof ImageError) {
        throw new ControllerError(error.code, error.message, error.hint);
      }
      throw error;
    }
  }

  /**
   * A state directory runs one environment at a time: applying prod's definition over dev's
   * running replicas would replace every one of them with prod's, a mistake more often than
   * an intent. Once nothing runs (`baton down`), the state may be used for another one.
   */
  private refuseEnvironmentSwitch(definition: Definition): void {
    const current = this.store.latestGeneration()?.environment ?? null;
    const wanted = definition.environment ?? null;
    if (current === wanted) return;
    const running = this.store.replicas().filter((r) => r.state !== "exited");
    if (running.length === 0) return;
    const name = (env: string | null): string => (env === null ? "no environment" : env);
    throw new ControllerError(
      "state.environment_mismatch",
      `${this.options.stateDir} runs environment ${name(current)} (${running.length} replicas); ` +
        `this definition is for ${name(wanted)}`,
      current === null
        ? "run `baton down` first, or use another state directory with --state"
        : `pass \`--env ${current}\`, run \`baton down\` first, or use another state directory with --state`,
    );
  }

  /** Copies each process app's folder into the snapshot its new replicas will run from. */
  private async captureSnapshots(definition: Definition): Promise<void> {
    try {
      await Promise.all(
        Object.values(definition.apps)
          .filter((spec) => this.drivers.find(spec.runtime)?.capabilities.localProcesses)
          .map((spec) => this.snapshots.prepare(spec.name, spec)),
      );
    } catch (error) {
      if (error instanceof SnapshotError) {
        throw new ControllerError("controller.snapshot_failed", error.message);
      }
      throw error;
    }
  }

  private requireApp(app: string): AppSpec {
    const spec = this.definition.apps[app];
    if (spec === undefined) {
      throw new ControllerError(
        "controller.unknown_app",
        `there is no app named ${JSON.stringify(app)}`,
        `apps in the definition: ${Object.keys(this.definition.apps).join(", ") || "none"}`,
      );
    }
    return spec;
  }

  status(): ControllerStatus {
    return {
      controller: {
        pid: process.pid,
        api: this.options.api,
        startedAt: this.startedAt,
        stateDir: this.options.stateDir,
        definition: {
          file: this.definition.file,
          generation: this.generation?.id ?? 0,
          revision: this.generation?.id ?? 0,
          hash: this.definition.hash,
          environment: this.definition.environment ?? null,
        },
        proxyPid: this.proxy.pid ?? null,
      },
      apps: this.apps.status(),
    };
  }

  /** status(), with each live replica's CPU time and memory as its runtime measures them. */
  async statusWithStats(): Promise<ControllerStatus> {
    const stats = await this.apps.replicaStats();
    const status = this.status();
    return {
      ...status,
      apps: status.apps.map((app) => ({
        ...app,
        replicas: app.replicas.map((replica) => {
          const measured = stats.get(replica.id);
          return measured === undefined
            ? replica
            : { ...replica, cpuSeconds: measured.cpuSeconds, memoryBytes: measured.rssBytes };
        }),
      })),
    };
  }

  listEvents(query: { afterId?: number; app?: string; limit?: number }): EventRecord[] {
    return this.store.events(query);
  }

  /**
   * Stops the controller. With `workloads`, replicas and the proxy stop too (`baton down`);
   * without, they keep serving and the next controller adopts them.
   */
  async shutdown(options: { workloads: boolean }): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.resyncTimer);
    await this.sampler.stop();
    this.alerts.stop();
    await this.hostWatch.stop();
    await this.delivery.stop();
    this.queue.close();
    await this.queue.idle();
    if (options.workloads) {
      await this.apps.stopAll((driver, error) => {
        this.events.emit({
          type: "controller.error",
          message: `could not remove the ${driver} apps' groups: ${error.message}`,
        });
      });
      await this.proxy.close(true);
      // No replica runs: none of their secret files may stay on tmpfs.
      removeAllReplicaFiles(this.options.stateDir);
      this.events.emit({
        type: "controller.down",
        message: "controller, proxy and replicas stopped",
      });
    } else {
      await this.proxy.close(false);
      this.events.emit({
        type: "controller.stopped",
        message: "controller stopped; replicas and proxy keep serving",
      });
    }
    this.apps.close();
    await this.drivers.close();
    this.store.releaseController(process.pid);
    this.store.close();
    this.metrics.close();
  }

  private metricsSampler(options: ControllerOptions): MetricsSampler {
    const events = new EventMetrics({
      rolloutStartedAt: (id) => this.store.rollouts.get(id)?.startedAt,
      runTimes: (id) => {
        const run = this.store.runs.get(id);
        return run && { start: run.startedAt ?? run.createdAt, end: run.finishedAt };
      },
    });
    this.events.subscribe((event) => events.observe(event));
    return new MetricsSampler({
      store: this.metrics,
      ...this.samplingIntervals(options.definition),
      replicas: () => this.apps.liveReplicas(),
      drivers: this.drivers,
      apps: () => this.status().apps,
      proxy: this.proxy,
      events,
      hosts: () => hostsOfEnvironment(this.definition.hosts, this.definition.environment),
      connect: (host) => connectDeclaredHost(host, this.definition.hosts),
      emit: (event) => this.events.emit(event),
    });
  }

  /** The definition's `metrics:` intervals; the option or $BATON_METRICS_INTERVAL win. */
  private samplingIntervals(definition: Definition): {
    intervalMs: number;
    hostIntervalMs: number;
  } {
    return {
      intervalMs:
        this.options.metricsIntervalMs ?? sampleIntervalFromEnv() ?? definition.metrics.intervalMs,
      hostIntervalMs: definition.metrics.hostIntervalMs,
    };
  }

  private async reconcileKey(key: string): Promise<void> {
    const slash = key.indexOf("/");
    const kind = key.slice(0, slash);
    const name = key.slice(slash + 1);
    await this.reconcilers.find((r) => r.kind === kind)?.reconcile(name);
  }

  private resync(): void {
    for (const reconciler of this.reconcilers) {
      for (const name of reconciler.names()) this.enqueue(`${reconciler.kind}/${name}`);
    }
  }

  /** Removes the uploaded blobs no kept generation or revision refers to (controller/blob-sweep.ts). */
  private async sweep(): Promise<void> {
    if (this.stopping) return;
    try {
      const removed = await sweepBlobs(
        this.store,
        new BlobStore(this.options.stateDir),
        Object.keys(this.definition.apps),
      );
      if (removed > 0) {
        this.events.emit({
          type: "content.swept",
          message: `removed ${removed} uploaded file(s) no kept generation or revision uses`,
          data: { removed },
        });
      }
    } catch (error) {
      this.events.emit({
        type: "content.sweep_failed",
        message: `could not remove unused uploaded files: ${(error as Error).message}`,
      });
    }
  }

  /** Replicas and proxy routes left by a previous controller become ours again. */
  private async adoptRunning(): Promise<void> {
    const handles = await this.drivers.recoverAll((driver, error) =>
      this.events.emit({
        type: "runtime.unavailable",
        message: `the ${driver.name} driver did not answer, none of its replicas adopted: ${error.message}`,
      }),
    );
    const table = await this.proxy.routes();
    const inPool = new Set<string>();
    for (const route of table.routes) for (const backend of route.backends) inPool.add(backend.id);
    this.apps.adopt(handles, inPool);
    for (const route of table.routes) {
      const hasReplicas = handles.some((h) => h.app === route.app);
      if (!hasReplicas && this.definition.apps[route.app] === undefined) {
        await this.proxy.deleteRoute(route.app, 0);
      }
    }
    if (handles.length > 0) {
      this.events.emit({
        type: "controller.adopted",
        message: `adopted ${handles.length} running replica(s)`,
        data: { replicas: handles.map((h) => h.id) },
      });
    }
  }

  /** Groups the schedulers still run for this state directory become ours again. */
  private async adoptGroups(): Promise<void> {
    const adopted = await this.apps.adoptGroups(this.definition, (driver, error) =>
      this.events.emit({
        type: "runtime.unavailable",
        message: `the ${driver} driver did not answer, none of its apps adopted: ${error.message}`,
      }),
    );
    if (adopted > 0) {
      this.events.emit({
        type: "controller.adopted",
        message: `adopted ${adopted} scheduled app(s)`,
        data: { services: adopted },
      });
    }
  }

  private async watchDriver(driver: Driver): Promise<void> {
    for await (const event of driver.events()) {
      if (event.type === "exited") this.apps.onReplicaExited(event);
    }
  }

  /** `baton scale` holds until the definition's own `replicas` for that app changes. */
  private clearStaleScaleOverrides(definition: Definition): void {
    for (const app of Object.values(definition.apps)) {
      const override = this.store.scaleOverride(app.name);
      if (override !== undefined && override.baseReplicas !== app.replicas) {
        this.store.clearScaleOverride(app.name);
      }
    }
  }
}

/** The test hook of BATON_TEST_FAIL_PASS, when it is set. */
function withPassFailures(): { passPoint?: (point: PassPoint, app: string) => void } {
  const passPoint = passFailuresFromEnv();
  return passPoint === undefined ? {} : { passPoint };
}

/** What replicas inherit from the controller's environment, as a process manager would. */
function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith("BATON_")) env[key] = value;
  }
  return env;
}

function notBuilt(app: string): ControllerError {
  return new ControllerError(
    "deploy.not_built",
    `${app} has no \`build:\`: its image is named in the definition, not released by Baton`,
    "edit its `image:` and `baton apply`; deploy picks releases of apps with `build:`",
  );
}
