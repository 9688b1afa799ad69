import type { Reconciler } from "../controller/reconciler.js";
import type { AppSpec, Definition } from "../definition/index.js";
import { appRevision } from "../definition/index.js";
import type { Change, DesiredResource, ObservedResource } from "../engine/index.js";
import type {
  GroupObservation,
  GroupReplica,
  GroupSecretFile,
  SchedulerDriver,
} from "../runtime/driver.js";
import type { NewEvent } from "../store/index.js";
import type { ProxyPort } from "./apps-reconciler.js";
import {
  assertRetryable,
  failedUnderOtherPolicy,
  policyChange,
  policyKey,
} from "./bad-revision.js";
import { appSettings } from "./resources.js";
import { RollbackError, rollbackTarget } from "./rollback-target.js";
import type { RolloutStorePort } from "./rollout-journal.js";
import { resolveBudget } from "./rollout-plan.js";
import type { RolloutRecord, RolloutStatus } from "./rollout-types.js";
import { desiredScheduledApps, observedGroup, scheduledAppKind } from "./scheduled-resources.js";
import type { AppStatus, ReplicaStatus } from "./status.js";

/** How often an app is looked at while its scheduler moves it (an update, replicas starting). */
const MOVING_POLL_MS = 300;
/** How often a settled app is looked at, besides the scheduler's changes and the resync. */
const SETTLED_POLL_MS = 5_000;
/** First retry of a failed pass; doubled up to MAX_RETRY_MS. */
const RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

export interface ScheduledAppsDeps {
  readonly driver: SchedulerDriver;
  readonly proxy: ProxyPort;
  readonly rollouts: RolloutStorePort;
  readonly scaleOverride: (app: string) => number | undefined;
  readonly emit: (event: NewEvent) => void;
  readonly requeue: (app: string, afterMs?: number) => void;
  /** The variables a group of `spec` gets from secrets. */
  readonly secretEnv?: (spec: AppSpec) => Readonly<Record<string, string>>;
  /** The files a group of `spec` gets from secrets (`files:`), with their content. */
  readonly secretFiles?: (spec: AppSpec) => readonly GroupSecretFile[];
}

interface GroupState {
  /** The definition's spec; undefined once the app is to be removed. */
  spec: AppSpec | undefined;
  project: string;
  /** The group as last observed (undefined: never observed). */
  group: GroupObservation | undefined;
  /** The scheduler's rollout last journalled, to journal each transition once. */
  lastRollout: string | undefined;
  /** Last route sent to the proxy, to send only changes. */
  lastRoute: string | undefined;
  /** Why the last pass failed (the scheduler refused, a name taken...), shown by status. */
  error: string | undefined;
  /** Passes failed in a row, for the retry backoff. */
  failures: number;
  /** Why the next rollout starts, when a bad revision is retried (for its journal). */
  retryWhy: string | undefined;
}

/**
 * Keeps the apps of one scheduler-backed driver equal to the definition. The scheduler
 * places, replaces and rolls the replicas (rolling back on its own when a revision fails
 * its health); this reconciler deploys the group, puts back what was changed or deleted by
 * hand (reported as drift), fronts the ready replicas with Baton's proxy, and journals the
 * scheduler's rollouts in the rollout store (bad revisions, pins, retries as for any app).
 * Everything is observed again on each pass: a restarted controller adopts the groups.
 */
export class ScheduledAppsReconciler implements Reconciler {
  readonly kind: string;
  private readonly driver: SchedulerDriver;
  private readonly apps = new Map<string, GroupState>();
  private appliedBy = "baton";
  private readonly watching = new AbortController();

  constructor(private readonly deps: ScheduledAppsDeps) {
    this.driver = deps.driver;
    this.kind = scheduledAppKind(deps.driver.name);
  }

  /** The `runtime:` of the apps this reconciler runs. */
  get driverName(): string {
    return this.driver.name;
  }

  /** Groups of this state directory left by a previous controller become ours again. */
  async adopt(project: string): Promise<number> {
    const apps = await this.driver.groups();
    for (const app of apps) {
      const state = this.stateOf(app, project);
      state.group = await this.driver.observe(app);
    }
    return apps.length;
  }

  setAppliedBy(by: string): void {
    this.appliedBy = by;
  }

  desired(definition: Definition): DesiredResource[] {
    return desiredScheduledApps(
      definition,
      this.driver.name,
      this.deps.scaleOverride,
      (app, revision) => {
        const live = this.apps.get(app)?.group?.revision;
        const spec = definition.apps[app];
        // A revision the scheduler rolled back: the plan compares with what is kept running,
        // unless it failed under another update policy than this one (it is retried: a rollout).
        const held = this.isBad(app, revision) && !(spec && this.retriesOnPolicy(app, spec));
        return live !== undefined && held ? live : revision;
      },
    );
  }

  observed(): ObservedResource[] {
    return [...this.apps.values()].flatMap((state) =>
      state.group?.revision === undefined
        ? []
        : [
            observedGroup(
              this.driver.name,
              state.group,
              state.spec === undefined ? undefined : appSettings(state.spec),
            ),
          ],
    );
  }

  async apply(change: Change, definition: Definition): Promise<void> {
    const name = change.key.name;
    const state = this.stateOf(name, definition.project);
    const spec = change.type === "delete" ? undefined : definition.apps[name];
    state.spec = spec?.runtime === this.driver.name ? spec : undefined;
    state.project = definition.project;
    if (state.spec !== undefined) {
      // Kept for `baton history` and the revision's bad mark when the scheduler rolls it back.
      this.deps.rollouts.saveRevision(name, appRevision(state.spec), state.spec);
      // Here, not in the pass: the status must not show it rolled back once applied.
      this.retryOnPolicyChange(name, state, state.spec);
    }
    this.deps.requeue(name);
  }

  names(): string[] {
    return [...this.apps.keys()];
  }

  has(app: string): boolean {
    return this.apps.get(app)?.spec !== undefined;
  }

  /** The proxy restarted without its routes: send each again. */
  resendRoutes(): void {
    for (const [name, state] of this.apps) {
      state.lastRoute = undefined;
      this.deps.requeue(name);
    }
  }

  /** Re-reads the desired count (after `baton scale`) and converges. */
  rescale(app: string): void {
    this.deps.requeue(app);
  }

  async reconcile(name: string): Promise<void> {
    const state = this.apps.get(name);
    if (state === undefined) return;
    try {
      await this.converge(name, state);
      state.error = undefined;
      state.failures = 0;
    } catch (error) {
      // Reported once per distinct reason, retried with backoff: a scheduler that does not
      // answer must not fill the event log.
      const message = (error as Error).message;
      if (message !== state.error) {
        this.emit(name, `${this.driver.name}.error`, `${name}: ${message}; retrying`);
      }
      state.error = message;
      state.failures++;
      this.deps.requeue(name, Math.min(RETRY_MS * 2 ** (state.failures - 1), MAX_RETRY_MS));
    }
  }

  private async converge(name: string, state: GroupState): Promise<void> {
    const spec = state.spec;
    if (spec === undefined) {
      await this.removeApp(name, state);
      return;
    }
    const before = await this.driver.observe(name);
    if (before.revision !== undefined) this.followRollout(name, state, before);
    const target = this.runnableSpec(name, spec);
    const revision = appRevision(target);
    const replicas = this.deps.scaleOverride(name) ?? spec.replicas;
    const deployment = await this.driver.deploy({
      app: name,
      revision,
      spec: target,
      replicas,
      update: spec.update,
      budget: resolveBudget(spec.update, replicas),
      project: state.project,
      secretEnv: this.deps.secretEnv?.(target) ?? {},
      secretFiles: this.deps.secretFiles?.(target) ?? [],
    });
    for (const extra of deployment.duplicates) {
      this.emit(
        name,
        `${this.driver.name}.duplicate_removed`,
        `removed duplicate service ${extra}`,
      );
    }
    if (deployment.action === "created") {
      this.created(name, state, deployment.name, revision);
    } else if (deployment.action === "updated") {
      const live = before.revision ?? "";
      if (live !== revision) this.rolloutStarted(name, state, live, revision, deployment.how);
      else {
        this.emit(
          name,
          "drift.detected",
          `${name}: service ${deployment.name} was changed outside Baton (${deployment.fields.join(", ")}); the definition is applied again`,
          { fields: deployment.fields, service: deployment.name },
        );
      }
    }
    const group = deployment.action === "unchanged" ? before : await this.driver.observe(name);
    state.group = group;
    await this.route(name, state, spec, group);
    this.finishFirstDeploy(name, group, revision, replicas);
    const moving =
      group.rollout.state === "progressing" ||
      group.rollout.state === "rolling-back" ||
      readyReplicas(group, group.revision ?? "").length < replicas ||
      group.replicas.some((r) => r.state === "stopping");
    this.deps.requeue(name, moving ? MOVING_POLL_MS : SETTLED_POLL_MS);
  }

  /**
   * The spec the group should have: the definition's, unless the scheduler rolled that
   * revision back; then the one that served before it, until the definition changes the
   * app. The update policy is always the definition's: it is the app's, not a revision's.
   */
  private runnableSpec(name: string, spec: AppSpec): AppSpec {
    const own = appRevision(spec);
    const stored = (revision: string): AppSpec | undefined => {
      const record = this.deps.rollouts.revision(name, revision);
      return record && { ...(JSON.parse(record.spec) as AppSpec), update: spec.update };
    };
    const pin = this.deps.rollouts.pin(name);
    if (pin !== undefined) {
      // `baton rollback` holds until the definition gives the app another revision.
      const pinned = pin.baseRevision === own ? stored(pin.revision) : undefined;
      if (pinned !== undefined) return pinned;
      this.deps.rollouts.clearPin(name);
    }
    if (!this.isBad(name, own)) return spec;
    const serving = this.deps.rollouts.servingRevision(name);
    return (serving === undefined ? undefined : stored(serving)) ?? spec;
  }

  /** The definition's revision is bad but failed under another update policy: lift the mark. */
  private retryOnPolicyChange(name: string, state: GroupState, spec: AppSpec): void {
    if (!this.retriesOnPolicy(name, spec)) return;
    const revision = appRevision(spec);
    const mark = this.deps.rollouts.revision(name, revision);
    if (mark === undefined) return;
    state.retryWhy = `retried: it failed under another update policy (${policyChange(mark, spec.update)})`;
    this.deps.rollouts.clearBad(name, revision);
  }

  private retriesOnPolicy(name: string, spec: AppSpec): boolean {
    if (this.deps.rollouts.pin(name) !== undefined) return false;
    return failedUnderOtherPolicy(
      this.deps.rollouts.revision(name, appRevision(spec)),
      spec.update,
    );
  }

  /**
   * `baton rollout retry`: the definition's revision, which the scheduler rolled back, is
   * deployed again and rolled by the scheduler like any update.
   */
  retry(name: string, by: string): RolloutRecord {
    const state = this.apps.get(name);
    if (state?.spec === undefined) {
      throw new Error(`bug: retry of ${name}, which the definition does not have`);
    }
    const revision = appRevision(state.spec);
    const store = this.deps.rollouts;
    assertRetryable(store, name, revision);
    store.clearBad(name, revision);
    const rollout = store.start({
      app: name,
      from: state.group?.revision ?? null,
      to: revision,
      trigger: "apply",
      by,
      why: `retried by ${by}`,
    });
    this.deps.requeue(name);
    return rollout;
  }

  /**
   * `baton rollback`: the group goes back to an earlier revision's spec (`to`, or its
   * prefix; default the one that rolled out before the current one), rolled by the
   * scheduler like any update. It holds until the definition changes the app's revision.
   */
  rollback(name: string, to: string | undefined, by: string): RolloutRecord {
    const state = this.apps.get(name);
    if (state?.spec === undefined) {
      throw new RollbackError(
        "rollback.unknown_app",
        `there is no app named ${JSON.stringify(name)}`,
      );
    }
    const store = this.deps.rollouts;
    const current = state.group?.revision ?? appRevision(this.runnableSpec(name, state.spec));
    const revision = rollbackTarget(store, name, current, to);
    if (revision === current) {
      throw new RollbackError(
        "rollback.current",
        `${name} already runs revision ${revision}`,
        `see \`baton history ${name}\` for the others`,
      );
    }
    if (store.revision(name, revision) === undefined) {
      throw new RollbackError(
        "rollback.unknown_revision",
        `the spec of ${name} revision ${revision} is not in the store`,
        `see \`baton history ${name}\``,
      );
    }
    store.setPin(name, revision, appRevision(state.spec));
    const rollout = store.start({
      app: name,
      from: current,
      to: revision,
      trigger: "rollback",
      by,
    });
    this.deps.requeue(name);
    return rollout;
  }

  /** The group was made: a first deploy, or again after it was removed behind Baton's back. */
  private created(name: string, state: GroupState, group: string, revision: string): void {
    const wasThere = state.group?.revision !== undefined;
    state.lastRollout = undefined;
    if (wasThere) {
      this.emit(
        name,
        "drift.detected",
        `service ${group} was removed outside Baton; created it again`,
        { fields: ["service"], service: group },
      );
    } else {
      this.emit(
        name,
        `${this.driver.name}.service_created`,
        `created service ${group} (${revision})`,
        { service: group, revision },
      );
    }
    const active = this.deps.rollouts.active(name);
    if (active === undefined || active.toRevision !== revision) {
      this.deps.rollouts.start({
        app: name,
        from: null,
        to: revision,
        trigger: "apply",
        by: this.appliedBy,
      });
    }
  }

  /** A new revision was deployed over a live one: the scheduler's rollout, journalled. */
  private rolloutStarted(
    name: string,
    state: GroupState,
    live: string,
    revision: string,
    how: string,
  ): void {
    // Recorded already when `baton rollback` or a retry asked for it.
    const active = this.deps.rollouts.active(name);
    const rollout =
      active?.toRevision === revision
        ? active
        : this.deps.rollouts.start({
            app: name,
            from: live === "" ? null : live,
            to: revision,
            trigger: "apply",
            by: this.appliedBy,
            ...(state.retryWhy === undefined ? {} : { why: state.retryWhy }),
          });
    state.retryWhy = undefined;
    this.deps.rollouts.appendStep(rollout.id, { action: "started", detail: how });
    this.emit(name, "rollout.started", `${name}: rolling ${live} → ${revision} (${how})`, {
      rollout: rollout.id,
      from: live,
      to: revision,
    });
  }

  /** Journals each transition of the scheduler's rollout once, in the app's rollout record. */
  private followRollout(name: string, state: GroupState, group: GroupObservation): void {
    const status = group.rollout;
    if (status.state === "idle") return;
    const key = [status.state, status.state === "paused" ? status.of : "", status.started].join(
      "@",
    );
    if (state.lastRollout === key) return;
    const first = state.lastRollout === undefined;
    state.lastRollout = key;
    const rollout = this.deps.rollouts.active(name);
    const live = group.revision ?? "";
    const scheduler = this.driver.name;
    switch (status.state) {
      case "completed":
        if (rollout !== undefined && rollout.toRevision === live) {
          this.finish(name, rollout, "rolled-out", `${scheduler}: ${status.message}`);
        }
        break;
      case "rolling-back":
        if (rollout !== undefined && rollout.state === "progressing") {
          this.deps.rollouts.update(rollout.id, {
            state: "rolling-back",
            reason: status.message,
            step: { action: "rollback", detail: `${scheduler}: ${status.message}` },
          });
          this.emit(
            name,
            "rollout.rolling_back",
            `${name}: ${scheduler} rolls back: ${status.message}`,
            { rollout: rollout.id },
          );
        }
        break;
      case "rolled-back":
        if (rollout !== undefined && rollout.toRevision !== live) {
          this.deps.rollouts.markBad(
            name,
            rollout.toRevision,
            rollout.reason ?? status.message,
            state.spec === undefined ? null : policyKey(state.spec.update),
          );
          this.finish(name, rollout, "rolled-back", rollout.reason ?? status.message);
        }
        break;
      case "paused":
        if (rollout !== undefined) {
          this.deps.rollouts.update(rollout.id, {
            state: "failed",
            reason: status.message,
            finished: true,
            step: {
              action: "failed",
              detail: `${scheduler} paused the ${status.of}: ${status.message}`,
            },
          });
          this.emit(name, "rollout.failed", `${name}: ${scheduler} paused: ${status.message}`, {
            rollout: rollout.id,
          });
        }
        break;
      case "progressing":
        if (!first) {
          this.emit(
            name,
            `${scheduler}.update`,
            `${name}: ${scheduler} update in progress: ${status.message}`,
          );
        }
        break;
    }
  }

  private finish(
    name: string,
    rollout: RolloutRecord,
    outcome: "rolled-out" | "rolled-back",
    detail: string,
  ): void {
    this.deps.rollouts.update(rollout.id, {
      state: outcome,
      ...(outcome === "rolled-back" ? { reason: detail } : {}),
      finished: true,
      step: { action: "done", detail },
    });
    this.emit(
      name,
      outcome === "rolled-out" ? "rollout.completed" : "rollout.rolled_back",
      outcome === "rolled-out"
        ? `${name}: rolled out ${rollout.toRevision}`
        : `${name}: ${this.driver.name} rolled back ${rollout.toRevision} (${detail}); ${rollout.fromRevision ?? "the previous revision"} serves`,
      { rollout: rollout.id, to: rollout.toRevision },
    );
  }

  /** A group just made has no rollout of the scheduler: its first deploy ends when ready. */
  private finishFirstDeploy(
    name: string,
    group: GroupObservation,
    revision: string,
    replicas: number,
  ): void {
    const rollout = this.deps.rollouts.active(name);
    if (rollout === undefined || rollout.fromRevision !== null || rollout.toRevision !== revision)
      return;
    if (group.rollout.state !== "idle") return;
    if (readyReplicas(group, revision).length >= replicas) {
      this.finish(name, rollout, "rolled-out", `${replicas} replica(s) ready`);
    }
  }

  /** The proxy's pool: every ready replica the scheduler reports, where it is reached. */
  private async route(
    name: string,
    state: GroupState,
    spec: AppSpec,
    group: GroupObservation,
  ): Promise<void> {
    if (spec.port === undefined || spec.publish === "mesh") {
      if (state.lastRoute !== undefined && state.lastRoute !== "none") {
        await this.deps.proxy.deleteRoute(name, spec.update.drainTimeoutMs);
      }
      state.lastRoute = "none";
      return;
    }
    const backends = readyReplicas(group)
      .filter((r) => r.reachable)
      .map(({ handle }) => ({ id: handle.id, host: handle.host, port: handle.port }));
    const route = { port: spec.port, host: spec.listen, protocol: spec.protocol, backends };
    const key = JSON.stringify(route);
    if (key === state.lastRoute) return;
    await this.deps.proxy.setRoute(name, route);
    state.lastRoute = key;
  }

  private async removeApp(name: string, state: GroupState): Promise<void> {
    if (state.lastRoute !== undefined && state.lastRoute !== "none") {
      await this.deps.proxy.deleteRoute(name, 5_000);
    }
    for (const group of await this.driver.remove(name)) {
      this.emit(name, `${this.driver.name}.service_removed`, `removed service ${group}`, {
        service: group,
      });
    }
    this.apps.delete(name);
  }

  /** Removes every group of this state directory (`baton down`). */
  async removeAll(): Promise<void> {
    this.watching.abort();
    let apps: string[];
    try {
      apps = await this.driver.groups();
    } catch (error) {
      // The scheduler does not answer: without apps on it there is nothing of ours.
      if (this.apps.size === 0) return;
      throw error;
    }
    for (const app of apps) {
      const state = this.apps.get(app);
      if (state !== undefined) await this.removeApp(app, state);
      else await this.driver.remove(app);
    }
  }

  /** Releases the scheduler's change stream; groups keep running. */
  close(): void {
    this.watching.abort();
  }

  /**
   * The scheduler's changes wake the app they concern at once. Polls and the controller's
   * resync catch whatever a broken stream missed.
   */
  async watch(): Promise<void> {
    for await (const { app } of this.driver.changes(this.watching.signal)) {
      if (this.apps.has(app)) this.deps.requeue(app);
    }
  }

  status(): AppStatus[] {
    return [...this.apps].flatMap(([name, state]) => {
      const spec = state.spec;
      const group = state.group;
      if (spec === undefined && group?.revision === undefined) return [];
      const revision = spec === undefined ? "" : appRevision(spec);
      const desired = spec === undefined ? 0 : (this.deps.scaleOverride(name) ?? spec.replicas);
      const live = group?.revision ?? "";
      const bad = spec !== undefined && live !== revision && this.isBad(name, revision);
      const serving = bad ? live : revision;
      const ready = group === undefined ? 0 : readyReplicas(group, serving).length;
      const rollout = this.deps.rollouts.active(name) ?? this.deps.rollouts.history(name, 1)[0];
      const moving = group?.rollout.state;
      const appState =
        spec === undefined
          ? "deleting"
          : state.error !== undefined && group?.revision === undefined
            ? "failed"
            : bad
              ? "rolled-back"
              : moving === "rolling-back"
                ? "rolling-back"
                : moving === "paused"
                  ? "failed"
                  : moving === "progressing" || ready < desired || live !== revision
                    ? "progressing"
                    : "converged";
      return [
        {
          name,
          revision: serving,
          desired,
          ready,
          port: spec?.port ?? null,
          protocol: spec?.protocol ?? "http",
          state: appState,
          replicas: (group?.replicas ?? []).map((r) => this.replicaStatus(r)),
          ...(state.error === undefined ? {} : { proxyError: state.error }),
          ...(rollout === undefined || (appState === "converged" && rollout.state === "rolled-out")
            ? {}
            : {
                rollout: {
                  id: rollout.id,
                  state: rollout.state,
                  from: rollout.fromRevision,
                  to: rollout.toRevision,
                  reason: rollout.reason,
                  lastOutput: rollout.lastOutput,
                  oldRunning: rollout.oldRunning,
                },
              }),
        },
      ];
    });
  }

  /** A replica the scheduler reports, as status shows it (its restarts are the scheduler's). */
  private replicaStatus(replica: GroupReplica): ReplicaStatus {
    const { handle } = replica;
    const described = this.driver.describe(handle);
    return {
      id: handle.id,
      pid: described.pid ?? null,
      port: replica.reachable ? handle.port : null,
      state: replica.state,
      ready: replica.ready,
      revision: handle.revision,
      restarts: 0,
      startedAt: handle.startedAt > 0 ? handle.startedAt : null,
      ...(replica.detail === undefined ? {} : { detail: replica.detail }),
      runtime: handle.driver,
      ...(described.container === undefined ? {} : { container: described.container }),
      ...(described.image === undefined ? {} : { image: described.image }),
      ...(described.node === undefined ? {} : { node: described.node }),
    };
  }

  /** `baton rollout status` of the app: the rollout and the scheduler's live counts. */
  rolloutStatus(name: string): RolloutStatus {
    const state = this.apps.get(name);
    const rollout =
      this.deps.rollouts.active(name) ?? this.deps.rollouts.history(name, 1)[0] ?? null;
    const spec = state?.spec;
    const desired = spec === undefined ? 0 : (this.deps.scaleOverride(name) ?? spec.replicas);
    const target =
      rollout?.state === "rolling-back"
        ? (rollout.fromRevision ?? "")
        : (rollout?.toRevision ?? "");
    const budget =
      spec === undefined
        ? { strategy: "rolling" as const, maxSurge: 0, maxUnavailable: 0 }
        : resolveBudget(spec.update, desired);
    const running = state?.group === undefined ? [] : readyReplicas(state.group);
    return {
      app: name,
      rollout,
      progress:
        rollout === null
          ? null
          : {
              target,
              desired,
              updated: running.filter((r) => r.handle.revision === target).length,
              old: running.filter((r) => r.handle.revision !== target).length,
              ...budget,
            },
      steps: rollout === null ? [] : this.deps.rollouts.steps(rollout.id),
    };
  }

  private isBad(app: string, revision: string): boolean {
    return (this.deps.rollouts.revision(app, revision)?.badReason ?? null) !== null;
  }

  private stateOf(app: string, project: string): GroupState {
    let state = this.apps.get(app);
    if (state === undefined) {
      state = {
        spec: undefined,
        project,
        group: undefined,
        lastRollout: undefined,
        lastRoute: undefined,
        error: undefined,
        failures: 0,
        retryWhy: undefined,
      };
      this.apps.set(app, state);
    }
    return state;
  }

  private emit(app: string, type: string, message: string, data?: Record<string, unknown>): void {
    this.deps.emit({ type, app, message, ...(data === undefined ? {} : { data }) });
  }
}

/** Ready replicas (of a revision): the scheduler's health check passed, it means them to run. */
function readyReplicas(group: GroupObservation, revision?: string): GroupReplica[] {
  return group.replicas.filter(
    (r) => r.ready && (revision === undefined || r.handle.revision === revision),
  );
}
