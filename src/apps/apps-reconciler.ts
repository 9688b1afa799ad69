import { randomBytes } from "node:crypto";
import type { Reconciler } from "../controller/reconciler.js";
import type { AppSpec, Definition, Probe, UpdatePolicy } from "../definition/index.js";
import { appRevision, formatDuration } from "../definition/index.js";
import type { Change, DesiredResource, ObservedResource } from "../engine/index.js";
import {
  type Driver,
  type DriverEvent,
  execOf,
  type Handle,
  type ReplicaStats,
  type RuntimeKind,
} from "../runtime/driver.js";
import type { DriverRegistry } from "../runtime/registry.js";
import type { NewEvent, ReplicaRecord } from "../store/index.js";
import { delay } from "../util/wait.js";
import { checkDeadline, decideStarts } from "./app-decision.js";
import { SlotBackoff } from "./backoff.js";
import {
  assertRetryable,
  failedUnderOtherPolicy,
  policyChange,
  policyKey,
} from "./bad-revision.js";
import type { ProbeTarget } from "./probe.js";
import { type ProbeKind, type ProbeStats, ReplicaHealth } from "./replica-health.js";
import { APP_KIND, desiredApps, observedApps } from "./resources.js";
import { RollbackError, rollbackTarget } from "./rollback-target.js";
import { RolloutJournal, type RolloutStorePort } from "./rollout-journal.js";
import { type ReplicaView, resolveBudget } from "./rollout-plan.js";
import type { RolloutRecord, RolloutStatus, RolloutTrigger } from "./rollout-types.js";
import type { AppStatus, ReplicaStateName, ReplicaStatus } from "./status.js";

/** Revisions of this many last rollouts keep their snapshots, for `baton rollback --to`. */
export const KEPT_ROLLOUTS = 10;

/** Who asked for a change of revision, for the rollout's record. */
interface Actor {
  readonly trigger: RolloutTrigger;
  readonly by: string;
  /** Why, when the trigger does not say it all (a retry). */
  readonly why?: string;
}

/** What the apps reconciler needs of the world, each behind a narrow port. */
export interface AppsDeps {
  /**
   * The drivers replicas run on, by the `runtime:` their app names: asking for one that is
   * not here (no Docker engine answers) throws why.
   */
  readonly drivers: Pick<DriverRegistry, "get">;
  readonly proxy: ProxyPort;
  readonly rollouts: RolloutStorePort;
  /**
   * The folder a revision's replicas run from: an immutable snapshot of the app's cwd,
   * content-addressed. `dir` names it; `prepare` makes it if missing and returns it.
   */
  readonly snapshots: {
    dir(app: string, spec: AppSpec): string;
    prepare(app: string, spec: AppSpec): Promise<string>;
    prune(app: string, keep: ReadonlySet<string>): Promise<void>;
  };
  readonly records: {
    putReplica(record: ReplicaRecord): void;
    updateReplica(id: string, patch: Partial<Pick<ReplicaRecord, "state" | "restarts">>): void;
    removeReplica(id: string): void;
    replicas(app?: string): ReplicaRecord[];
  };
  readonly scaleOverride: (app: string) => number | undefined;
  readonly emit: (event: NewEvent) => void;
  /** Asks the work queue for another pass over an app, now or later. */
  readonly requeue: (app: string, afterMs?: number) => void;
  readonly allocatePort: () => Promise<number>;
  /** Environment every replica inherits (PATH, HOME, ...) before the app's own env. */
  readonly baseEnv: Readonly<Record<string, string>>;
  readonly now?: () => number;
  /**
   * Tests only: called at each point of a pass; a throw there fails the pass at that point,
   * a promise holds the pass there until it settles.
   */
  readonly passPoint?: (point: PassPoint, app: string) => void | Promise<void>;
}

export interface ProxyRoute {
  readonly port: number;
  readonly host: string;
  readonly protocol: "http" | "tcp";
  readonly backends: readonly {
    readonly id: string;
    readonly host: string;
    readonly port: number;
  }[];
}

export interface ProxyPort {
  setRoute(app: string, route: ProxyRoute): Promise<void>;
  deleteRoute(app: string, timeoutMs: number): Promise<void>;
  drain(
    app: string,
    id: string,
    timeoutMs: number,
  ): Promise<{ drained: boolean; inflight: number }>;
}

interface Replica {
  readonly handle: Handle;
  readonly revision: string;
  /** Slot index for replicas of the target revision; undefined once superseded or surplus. */
  slot: number | undefined;
  state: ReplicaStateName;
  ready: boolean;
  detail: string;
  restarts: number;
  health: ReplicaHealth | undefined;
  /** The health checker's last verdict, told to a pass once: not the replica's state. */
  heard: { ready: boolean; detail: string };
  /** Set when Baton stops it: `restart` counts as a failure of its slot, `remove` does not. */
  stopIntent: "restart" | "remove" | undefined;
}

/**
 * What happened to an app's replicas between two passes, as it happened: a driver's exit, a
 * health check's verdict, a start that ended. Events only record these and ask for a pass;
 * the pass applies them (applyInbox) before it decides anything.
 */
type Observation =
  | { readonly kind: "exited"; readonly event: DriverEvent }
  | {
      readonly kind: "started";
      readonly slot: Slot;
      readonly slotIndex: number;
      readonly revision: string;
      readonly spec: AppSpec;
      readonly handle: Handle;
    }
  | {
      readonly kind: "start-failed";
      readonly slot: Slot;
      readonly revision: string;
      readonly id: string;
      readonly message: string;
    }
  | {
      readonly kind: "readiness";
      readonly replica: Replica;
      readonly ready: boolean;
      readonly detail: string;
    }
  | { readonly kind: "liveness-failed"; readonly replica: Replica; readonly detail: string }
  | { readonly kind: "stable"; readonly slot: Slot; readonly id: string };

/** The points of a pass where a test may make it fail (AppsDeps.passPoint). */
export type PassPoint = "observed" | "decided" | "started" | "pooled" | "stopped" | "tracked";

interface Slot {
  readonly backoff: SlotBackoff;
  replicaId: string | undefined;
  /** A start is under way (port allocation, spawn): never start twice. */
  starting: boolean;
  /** Not before this time (crash-loop backoff). */
  restartAt: number;
  restarts: number;
  lastReplicaId: string | undefined;
  lastExit: string;
}

interface AppState {
  /** The definition's spec: desired count and proxy settings come from it. */
  spec: AppSpec | undefined;
  /** The definition's own revision of the app (what `rollback` pins are relative to). */
  definitionRevision: string;
  /** The revision replicas should run: the definition's, a pinned one, or the last good one. */
  revision: string;
  /** The spec of `revision` (the definition's, or a stored one for a rollback). */
  targetSpec: AppSpec | undefined;
  /** Specs by revision, for the health checks and stop grace of every replica running. */
  readonly specs: Map<string, AppSpec>;
  /** The revision that served when the app's last rollout ended. */
  stable: string | undefined;
  /** The unfinished rollout, if any. */
  rollout: RolloutRecord | undefined;
  /** The rollout that found the definition's revision bad: why the app runs another one. */
  blocked: RolloutRecord | undefined;
  /** A first deploy that failed (nothing to roll back to): completed if it recovers. */
  failedFirst: RolloutRecord | undefined;
  /** A failure seen outside a reconcile pass (an exit), handled by the next pass. */
  pendingFailure: { reason: string; replica: string } | undefined;
  desired: number;
  readonly slots: Slot[];
  readonly replicas: Map<string, Replica>;
  /** Whether the last pass found the app converged, to announce each arrival once. */
  converged: boolean;
  /** The dependencies (dependsOn) not ready, for which the last pass held a replica's start. */
  waitingFor: readonly string[];
  /** Last route sent to the proxy, to send only changes. */
  lastRoute: string | undefined;
  /** Replicas in the last route the proxy took: the pool. */
  pooled: ReadonlySet<string>;
  proxyError: string | undefined;
  /** Replicas adopted, health not yet re-established: no proxy update may shrink the pool. */
  adopting: boolean;
  /** The applied definition no longer has this app: stop its replicas, drop its route. */
  deleting: boolean;
  /** Proxy updates of one app run one after the other, each sending the latest pool. */
  proxyChain: Promise<void>;
  /** What happened since the last pass, in order; the next pass applies it. */
  readonly inbox: Observation[];
  /**
   * Settles when the pass or command that holds the app's turn ends: passes and commands
   * (apply, scale, rollback, retry) over one app take turns, never interleaved at an await.
   */
  turn: Promise<void>;
}

/**
 * Keeps each app's replicas equal to its definition: the desired count of the target
 * revision, ready ones in the proxy's pool, exited ones replaced (with backoff). A change
 * of revision is a rollout: new replicas start within `maxSurge`, old ones leave the pool,
 * drain and stop while the ready count stays above `desired - maxUnavailable`; a new
 * revision that exits or is not ready within `healthyDeadline` is rolled back. Each step
 * is journaled, and every decision is taken again from what runs on each pass, so a
 * controller that restarts mid-way resumes where the world is, not where it was.
 */
export class AppsReconciler implements Reconciler {
  readonly kind = APP_KIND;
  private readonly apps = new Map<string, AppState>();
  private readonly now: () => number;
  private readonly journal: RolloutJournal;
  private appliedBy = "baton";

  constructor(private readonly deps: AppsDeps) {
    this.now = deps.now ?? Date.now;
    this.journal = new RolloutJournal(deps.rollouts, deps.emit);
  }

  desired(definition: Definition): DesiredResource[] {
    return desiredApps(definition, this.deps.scaleOverride, (app, revision) => {
      const state = this.apps.get(app);
      if (state === undefined || state.definitionRevision !== revision) return revision;
      // A bad revision about to be retried under a new update policy: a rollout to it.
      const spec = definition.apps[app];
      if (spec !== undefined && this.retriesOnPolicy(app, revision, spec)) return revision;
      // A bad or pinned revision: the plan compares with what is kept running instead.
      return state.revision;
    });
  }

  observed(): ObservedResource[] {
    const replicas: { app: string; revision: string }[] = [];
    for (const [app, state] of this.apps) {
      for (const replica of state.replicas.values()) {
        if (replica.state !== "stopping") replicas.push({ app, revision: replica.revision });
      }
      // A slot waiting to restart (crash-loop) still stands for a replica of its revision.
      for (const slot of state.slots) {
        if (slot.replicaId === undefined) replicas.push({ app, revision: state.revision });
      }
    }
    return observedApps(replicas, (app) => this.apps.get(app)?.spec);
  }

  names(): string[] {
    return [...this.apps.keys()];
  }

  /** Who the next definition comes from, for the rollouts it starts. */
  setAppliedBy(by: string): void {
    this.appliedBy = by;
  }

  /** Hands over replicas found running at controller start, before the first reconcile. */
  adopt(handles: readonly Handle[], inProxyPool: ReadonlySet<string>): void {
    const known = new Map(this.deps.records.replicas().map((r) => [r.id, r]));
    for (const handle of handles) {
      const state = this.stateOf(handle.app);
      const record = known.get(handle.id);
      // Taken out of the pool to be drained and stopped when the last controller died.
      const leaving = record?.state === "stopping";
      const ready = inProxyPool.has(handle.id) && !leaving;
      state.replicas.set(handle.id, {
        handle,
        revision: handle.revision,
        slot: undefined,
        state: ready ? "ready" : "starting",
        ready,
        detail: "",
        restarts: record?.restarts ?? 0,
        health: undefined,
        heard: { ready, detail: "" },
        stopIntent: leaving ? "remove" : undefined,
      });
      // What the proxy really serves, leaving ones included: they are unpooled before they stop.
      if (inProxyPool.has(handle.id)) state.pooled = new Set([...state.pooled, handle.id]);
      state.adopting = true;
    }
    for (const state of this.apps.values()) {
      if (state.stable !== undefined) continue;
      // State from before rollouts were recorded: what runs and serves is the last good one.
      const serving = new Set(
        [...state.replicas.values()].filter((r) => r.ready).map((r) => r.revision),
      );
      if (serving.size === 1) state.stable = [...serving][0];
    }
    // Records of replicas that vanished while no controller watched.
    const live = new Set(handles.map((h) => h.id));
    for (const record of known.values()) {
      if (!live.has(record.id)) this.deps.records.removeReplica(record.id);
    }
  }

  async apply(change: Change, definition: Definition): Promise<void> {
    const name = change.key.name;
    const state = this.stateOf(name);
    const spec = change.type === "delete" ? undefined : definition.apps[name];
    const by = this.appliedBy;
    await this.inTurn(state, () => {
      this.setSpec(name, state, spec, { trigger: "apply", by });
      state.deleting = spec === undefined;
    });
    // Through the work queue, so that no two passes over one app ever run at once.
    this.deps.requeue(name);
  }

  /**
   * Runs `work` in the app's turn: once the pass or command before it has ended, and before
   * any that comes after. A command so changes the app's state between two passes, never
   * while a pass waits on the proxy or a driver.
   */
  private async inTurn<T>(state: AppState, work: () => T | Promise<T>): Promise<T> {
    const before = state.turn;
    let release: () => void = () => {};
    state.turn = new Promise<void>((resolve) => {
      release = resolve;
    });
    await before;
    try {
      return await work();
    } finally {
      release();
    }
  }

  /** Re-reads the desired count (after `baton scale`) and converges. */
  async rescale(name: string): Promise<void> {
    const state = this.apps.get(name);
    if (state === undefined) return;
    await this.inTurn(state, () => {
      if (state.spec === undefined) return;
      this.setSpec(name, state, state.spec, { trigger: "apply", by: this.appliedBy });
    });
    this.deps.requeue(name);
  }

  /**
   * Rolls an app to an earlier revision (`to`, a revision or its prefix; default the one
   * that served before the current one). It holds until the definition changes the app.
   */
  async rollback(name: string, to: string | undefined, by: string): Promise<RolloutRecord> {
    const state = this.apps.get(name);
    if (state === undefined) throw unknownApp(name);
    return this.inTurn(state, () => this.rollbackNow(name, state, to, by));
  }

  private rollbackNow(
    name: string,
    state: AppState,
    to: string | undefined,
    by: string,
  ): RolloutRecord {
    if (state.spec === undefined) {
      throw unknownApp(name);
    }
    const store = this.deps.rollouts;
    const current = state.stable ?? state.revision;
    const revision = rollbackTarget(store, name, current, to);
    if (revision === state.revision && state.rollout === undefined) {
      throw new RollbackError(
        "rollback.current",
        `${name} already runs revision ${revision}`,
        `see \`baton history ${name}\` for the others`,
      );
    }
    const spec = this.specOf(name, state, revision);
    if (spec === undefined) {
      throw new RollbackError(
        "rollback.unknown_revision",
        `the spec of ${name} revision ${revision} is not in the store`,
        `see \`baton history ${name}\``,
      );
    }
    store.setPin(name, revision, state.definitionRevision);
    this.retarget(name, state, revision, { trigger: "rollback", by });
    this.deps.requeue(name);
    const rollout = state.rollout ?? store.history(name, 1)[0];
    if (rollout === undefined) throw new Error("rollback: no rollout recorded");
    return rollout;
  }

  /**
   * `baton rollout retry`: the definition's revision, held back since its rollout failed,
   * is rolled out again — for a failure the definition could not fix (a dependency that was
   * down, a file that was missing).
   */
  async retry(name: string, by: string): Promise<RolloutRecord> {
    const state = this.apps.get(name);
    if (state === undefined) {
      throw new Error(`bug: retry of ${name}, which the definition does not have`);
    }
    return this.inTurn(state, () => this.retryNow(name, state, by));
  }

  private retryNow(name: string, state: AppState, by: string): RolloutRecord {
    if (state.spec === undefined) {
      throw new Error(`bug: retry of ${name}, which the definition does not have`);
    }
    const revision = state.definitionRevision;
    assertRetryable(this.deps.rollouts, name, revision);
    this.deps.rollouts.clearBad(name, revision);
    this.setSpec(name, state, state.spec, { trigger: "apply", by, why: `retried by ${by}` });
    this.deps.requeue(name);
    const rollout = state.rollout;
    if (rollout === undefined || rollout.toRevision !== revision) {
      throw new Error(`bug: retrying ${name} started no rollout to ${revision}`);
    }
    return rollout;
  }

  /** `baton rollout status`: the current rollout, else the last, with live counts. */
  rolloutStatus(name: string): RolloutStatus {
    const state = this.apps.get(name);
    const store = this.deps.rollouts;
    const rollout = state?.rollout ?? store.history(name, 1)[0] ?? null;
    if (state === undefined || rollout === null) {
      return { app: name, rollout, progress: null, steps: rollout ? store.steps(rollout.id) : [] };
    }
    const replicas = [...state.replicas.values()];
    const policy = state.spec?.update;
    if (policy === undefined) {
      return { app: name, rollout, progress: null, steps: store.steps(rollout.id) };
    }
    const budget = resolveBudget(policy, state.desired);
    return {
      app: name,
      rollout,
      progress: {
        target: state.revision,
        desired: state.desired,
        updated: replicas.filter(
          (r) => r.revision === state.revision && r.ready && state.pooled.has(r.handle.id),
        ).length,
        old: replicas.filter((r) => r.revision !== state.revision).length,
        strategy: budget.strategy,
        maxSurge: budget.maxSurge,
        maxUnavailable: budget.maxUnavailable,
      },
      steps: store.steps(rollout.id),
    };
  }

  /**
   * One pass over an app, the only place its state changes: what happened since the last
   * pass (exits, readiness, starts that ended) is applied first, then the pure decision
   * (app-decision.ts) is taken from the result and carried out. A pass that fails half-way
   * leaves nothing the next one cannot take up: each step reads the state afresh.
   */
  async reconcile(name: string): Promise<void> {
    const state = this.apps.get(name);
    if (state === undefined) return;
    await this.inTurn(state, () => this.pass(name, state));
  }

  private async pass(name: string, state: AppState): Promise<void> {
    this.applyInbox(name, state);
    await this.passPoint("observed", name);
    const spec = state.spec;
    if (spec === undefined) {
      // Only a definition that no longer has the app removes it; an app adopted before any
      // definition was applied is left alone.
      if (state.deleting) await this.removeApp(name, state);
      return;
    }
    if (state.pendingFailure !== undefined) {
      const failure = state.pendingFailure;
      state.pendingFailure = undefined;
      await this.failRollout(name, state, failure.reason, failure.replica, spec.update);
    }
    const target = state.targetSpec ?? spec;
    this.resizeSlots(name, state, target);
    for (const replica of state.replicas.values()) {
      if (replica.stopIntent === "remove" && replica.state !== "stopping") {
        void this.stopReplica(name, state, replica, "remove");
      } else if (replica.health === undefined && replica.state !== "stopping") {
        this.watchHealth(name, state, replica);
      }
    }
    // The definition's policy, whichever revision is the target: it says how this app rolls,
    // the way back included (a recreate's rollback stops the failed replicas first).
    const decision = decideStarts({
      desired: state.desired,
      budget: resolveBudget(spec.update, state.desired),
      replicas: [...state.replicas.values()].map((r) => this.view(state, r)),
      slots: state.slots.map((s) => ({
        occupied: s.replicaId !== undefined || s.starting,
        restartAt: s.restartAt,
      })),
      now: this.now(),
      unreadyDependencies: this.unreadyDependencies(spec),
    });
    await this.passPoint("decided", name);
    if (decision.wakeInMs !== undefined) this.deps.requeue(name, decision.wakeInMs);
    const waited = state.waitingFor;
    state.waitingFor = decision.waitingFor;
    for (const index of decision.start) {
      const slot = state.slots[index];
      if (slot === undefined) continue;
      slot.starting = true;
      void this.startReplica(name, state, target, index, slot);
    }
    await this.passPoint("started", name);
    // New ready replicas join the pool before any old one leaves it.
    await this.syncProxy(name, state);
    await this.passPoint("pooled", name);
    for (const id of decision.stopOld) {
      const replica = state.replicas.get(id);
      if (replica !== undefined) void this.stopReplica(name, state, replica, "remove");
    }
    await this.passPoint("stopped", name);
    await this.trackRollout(name, state, spec);
    await this.passPoint("tracked", name);
    this.announceConvergence(name, state, spec);
    this.announceWaiting(name, state, waited);
    if (this.hasReadyReplica(name)) this.wakeDependents(name);
  }

  /**
   * The test hook of a pass: a test makes it throw at one point to see the next pass
   * converge, or holds it there to see what waits for it.
   */
  private async passPoint(point: PassPoint, app: string): Promise<void> {
    await this.deps.passPoint?.(point, app);
  }

  /** The apps of `spec.dependsOn` that have no ready replica of the revision they should run. */
  private unreadyDependencies(spec: AppSpec): string[] {
    return (spec.dependsOn ?? []).filter((dep) => !this.hasReadyReplica(dep));
  }

  /**
   * Whether an app serves what it should: a replica of its target revision that is ready (in
   * the proxy's pool, or passing its readiness check). A replica of the revision a rollout
   * replaces does not count, so an app waits for a dependency's new revision.
   */
  private hasReadyReplica(name: string): boolean {
    const state = this.apps.get(name);
    if (state?.spec === undefined) return false;
    for (const replica of state.replicas.values()) {
      const serving = replica.ready && replica.state !== "stopping";
      if (serving && replica.revision === state.revision) return true;
    }
    return false;
  }

  /** Passes over the apps the last pass held for `name`: it is ready now. */
  private wakeDependents(name: string): void {
    for (const [other, state] of this.apps) {
      if (state.waitingFor.includes(name)) this.deps.requeue(other);
    }
  }

  /** Says once that an app holds its starts for its dependencies, and for which. */
  private announceWaiting(name: string, state: AppState, before: readonly string[]): void {
    const now = state.waitingFor;
    if (now.length === 0 || now.join() === before.join()) return;
    this.deps.emit({
      type: "app.waiting",
      app: name,
      message: `${name}: ${waitingText(now)} to be ready before starting a replica`,
      data: { dependencies: [...now] },
    });
  }

  private view(state: AppState, replica: Replica): ReplicaView {
    return {
      id: replica.handle.id,
      current: replica.revision === state.revision && replica.slot !== undefined,
      ready: replica.ready,
      stopping: replica.state === "stopping",
      startedAt: replica.handle.startedAt,
    };
  }

  /** Fails a forward rollout whose new replicas miss the deadline; completes a finished one. */
  private async trackRollout(name: string, state: AppState, spec: AppSpec): Promise<void> {
    const rollout = state.rollout;
    const converged = this.isConverged(state);
    if (rollout !== undefined && rollout.state === "progressing") {
      const verdict = checkDeadline(
        [...state.replicas.values()]
          .filter((r) => r.revision === state.revision)
          .map((r) => ({
            id: r.handle.id,
            slotted: r.slot !== undefined,
            ready: r.ready,
            stopping: r.state === "stopping",
            startedAt: r.handle.startedAt,
            detail: r.detail,
          })),
        spec.update.healthyDeadlineMs,
        this.now(),
        formatDuration,
      );
      if (verdict.kind === "fail") {
        await this.failRollout(name, state, verdict.reason, verdict.replica, spec.update);
        return;
      }
      if (verdict.wakeInMs !== undefined) this.deps.requeue(name, verdict.wakeInMs);
    }
    if (!converged) return;
    if (state.rollout !== undefined) {
      this.journal.complete(state.rollout, this.now() - state.rollout.startedAt);
      state.rollout = undefined;
      state.stable = state.revision;
      void this.pruneSnapshots(name, state);
      return;
    }
    const failed = state.failedFirst;
    if (failed !== undefined && failed.toRevision === state.revision) {
      // A first deploy that crashed at first and recovered: it serves after all.
      this.deps.rollouts.update(failed.id, {
        state: "rolled-out",
        finished: true,
        step: { action: "done", detail: `${state.revision} serves after all` },
      });
      state.failedFirst = undefined;
      state.stable = state.revision;
    }
  }

  /** Snapshots of revisions the last rollouts did not touch can no longer be rolled back to. */
  private async pruneSnapshots(name: string, state: AppState): Promise<void> {
    const revisions = new Set([state.revision, state.definitionRevision]);
    for (const replica of state.replicas.values()) revisions.add(replica.revision);
    for (const rollout of this.deps.rollouts.history(name, KEPT_ROLLOUTS)) {
      revisions.add(rollout.toRevision);
      if (rollout.fromRevision !== null) revisions.add(rollout.fromRevision);
    }
    const keep = new Set<string>();
    for (const revision of revisions) {
      const spec = this.specOf(name, state, revision);
      if (spec !== undefined) keep.add(this.deps.snapshots.dir(name, spec));
    }
    try {
      await this.deps.snapshots.prune(name, keep);
    } catch (error) {
      this.deps.emit({
        type: "snapshot.prune_failed",
        app: name,
        message: `${name}: could not remove old snapshots: ${(error as Error).message}`,
      });
    }
  }

  /**
   * The new revision failed under `policy`: mark it bad and go back (or, for a first
   * deploy, say so).
   */
  private async failRollout(
    name: string,
    state: AppState,
    reason: string,
    replicaId: string,
    policy: UpdatePolicy,
  ): Promise<void> {
    const rollout = state.rollout;
    if (rollout === undefined || rollout.state !== "progressing") return;
    const output = await this.lastOutput(
      name,
      replicaId,
      state.replicas.get(replicaId)?.handle.driver ?? state.targetSpec?.runtime ?? "process",
    );
    if (state.rollout !== rollout) return;
    if (rollout.fromRevision === null) {
      state.rollout = undefined;
      state.failedFirst = this.journal.failFirst(rollout, reason, output);
      return;
    }
    // Old replicas the new one ran beside: they may hold what it needed (a lock, a port).
    const oldRunning = [...state.replicas.values()].filter(
      (r) => r.revision !== rollout.toRevision && r.state !== "stopping",
    ).length;
    state.rollout = this.journal.rollBack(rollout, reason, output, {
      policy: policyKey(policy),
      oldRunning,
    });
    state.blocked = state.rollout;
    this.retarget(name, state, rollout.fromRevision, { trigger: "apply", by: rollout.by });
    this.deps.requeue(name);
  }

  /** Exactly the desired count, all ready, all of the target revision, nothing else. */
  private isConverged(state: AppState): boolean {
    const replicas = [...state.replicas.values()];
    return (
      replicas.length === state.desired &&
      replicas.every((r) => r.ready && r.revision === state.revision && r.slot !== undefined) &&
      state.slots.every((s) => s.replicaId !== undefined)
    );
  }

  private announceConvergence(name: string, state: AppState, spec: AppSpec): void {
    const converged = this.isConverged(state);
    if (converged === state.converged) return;
    state.converged = converged;
    if (!converged) return;
    const where =
      spec.port === undefined
        ? ""
        : `, serving ${spec.protocol === "http" ? "http://" : ""}${spec.listen}:${spec.port}`;
    this.deps.emit({
      type: "app.converged",
      app: name,
      message: `${name}: ${state.desired}/${state.desired} ready on revision ${state.revision}${where}`,
      data: { replicas: state.desired, revision: state.revision },
    });
  }

  /**
   * CPU time and memory of every live replica, as its runtime measures them (the kernel's
   * counters for processes, the engine's stats for containers). A replica that cannot be
   * measured within `timeoutMs` (gone meanwhile, engine slow) is left out, never waited on.
   */
  async replicaStats(timeoutMs = 2_000): Promise<Map<string, ReplicaStats>> {
    const live = [...this.apps.values()].flatMap((state) => [...state.replicas.values()]);
    const measured = await Promise.all(
      live.map(async (replica) => {
        const timer = new AbortController();
        const stats = await Promise.race([
          this.driverOf(replica.handle)
            .stats(replica.handle)
            .catch(() => undefined),
          delay(timeoutMs, timer.signal).then(() => undefined),
        ]);
        timer.abort();
        return stats === undefined ? [] : [[replica.handle.id, stats] as const];
      }),
    );
    return new Map(measured.flat());
  }

  /** Live replicas with their readiness: what the metrics sampler measures. */
  liveReplicas(): {
    handle: Handle;
    ready: boolean;
    probes: Partial<Record<ProbeKind, ProbeStats>>;
  }[] {
    return [...this.apps.values()].flatMap((state) =>
      [...state.replicas.values()].map((r) => ({
        handle: r.handle,
        ready: r.ready && r.state !== "stopping",
        probes: r.health?.stats() ?? {},
      })),
    );
  }

  status(): AppStatus[] {
    const result: AppStatus[] = [];
    const now = this.now();
    for (const [name, state] of this.apps) {
      const replicas: ReplicaStatus[] = [];
      for (const replica of state.replicas.values()) {
        const described = this.driverOf(replica.handle).describe(replica.handle);
        replicas.push({
          id: replica.handle.id,
          pid: described.pid ?? null,
          port: replica.handle.port,
          state: replica.state,
          ready: replica.ready,
          revision: replica.revision,
          restarts: replica.restarts,
          startedAt: replica.handle.startedAt,
          ...(replica.detail ? { detail: replica.detail } : {}),
          runtime: replica.handle.driver,
          ...(described.container === undefined ? {} : { container: described.container }),
          ...(described.image === undefined ? {} : { image: described.image }),
        });
      }
      let crashLooping = false;
      for (const slot of state.slots) {
        // An empty slot that never had a replica is about to get one: nothing to show.
        if (slot.replicaId !== undefined || slot.starting || slot.lastReplicaId === undefined)
          continue;
        crashLooping = crashLooping || slot.backoff.consecutiveFailures >= 2;
        const restarting =
          state.waitingFor.length > 0 && slot.restartAt <= now
            ? waitingText(state.waitingFor)
            : `restarting in ${Math.max(0, slot.restartAt - now)}ms`;
        replicas.push({
          id: slot.lastReplicaId ?? `${name}-pending`,
          pid: null,
          port: null,
          state: "crash-loop",
          ready: false,
          revision: state.revision,
          restarts: slot.restarts,
          startedAt: null,
          detail: `${slot.lastExit}; ${restarting}`,
        });
      }
      const ready = [...state.replicas.values()].filter(
        (r) => r.ready && r.revision === state.revision && r.state !== "stopping",
      ).length;
      const shown = state.rollout ?? state.blocked ?? state.failedFirst;
      result.push({
        name,
        revision: state.revision,
        desired: state.desired,
        ready,
        port: state.spec?.port ?? null,
        protocol: state.spec?.protocol ?? "http",
        state: this.appState(state, crashLooping),
        ...(state.waitingFor.length > 0 ? { detail: waitingText(state.waitingFor) } : {}),
        replicas,
        ...(state.proxyError ? { proxyError: state.proxyError } : {}),
        ...(shown === undefined
          ? {}
          : {
              rollout: {
                id: shown.id,
                state: shown.state,
                from: shown.fromRevision,
                to: shown.toRevision,
                reason: shown.reason,
                lastOutput: shown.lastOutput,
                oldRunning: shown.oldRunning,
              },
            }),
      });
    }
    return result;
  }

  private appState(state: AppState, crashLooping: boolean): string {
    if (state.spec === undefined) return "deleting";
    if (state.rollout?.state === "rolling-back") return "rolling-back";
    if (state.rollout === undefined && state.blocked !== undefined) return "rolled-back";
    if (state.waitingFor.length > 0) return "waiting";
    if (crashLooping) return "crash-loop";
    if (state.failedFirst !== undefined && !this.isConverged(state)) return "failed";
    return this.isConverged(state) ? "converged" : "progressing";
  }

  /** Called by the controller for every exit a driver reports: the next pass applies it. */
  onReplicaExited(event: DriverEvent): void {
    const state = this.apps.get(event.app);
    if (state !== undefined) this.observe(event.app, state, { kind: "exited", event });
  }

  /** Records what happened and asks for a pass over the app, which applies it. */
  private observe(name: string, state: AppState, observation: Observation): void {
    if (this.apps.get(name) !== state) {
      // The app was removed meanwhile: a replica that started for it is stopped, not kept.
      if (observation.kind === "started") {
        void this.driverOf(observation.handle)
          .stop(observation.handle, observation.spec.stopGraceMs)
          .catch(() => {});
      }
      return;
    }
    state.inbox.push(observation);
    this.deps.requeue(name);
  }

  /**
   * Applies what happened since the last pass, in order. Each observation leaves the inbox
   * once applied: a pass that fails half-way leaves the rest to the next one.
   */
  private applyInbox(name: string, state: AppState): void {
    for (let next = state.inbox[0]; next !== undefined; next = state.inbox[0]) {
      this.applyObservation(name, state, next);
      state.inbox.shift();
    }
  }

  private applyObservation(name: string, state: AppState, observation: Observation): void {
    switch (observation.kind) {
      case "exited":
        this.applyExit(name, state, observation.event);
        break;
      case "started":
        this.applyStarted(name, state, observation);
        break;
      case "start-failed":
        this.applyStartFailed(name, state, observation);
        break;
      case "readiness":
        this.applyReadiness(name, state, observation.replica, observation);
        break;
      case "liveness-failed":
        this.applyLivenessFailed(name, state, observation.replica, observation.detail);
        break;
      case "stable": {
        const { slot, id } = observation;
        if (slot.replicaId === id && state.replicas.has(id)) slot.backoff.onStable();
        break;
      }
    }
  }

  private applyExit(app: string, state: AppState, event: DriverEvent): void {
    const { id, code, signal } = event;
    const oom = event.oom === true;
    const replica = state.replicas.get(id);
    if (replica === undefined) return;
    replica.health?.stop();
    state.replicas.delete(id);
    this.deps.records.removeReplica(id);
    const memory = event.memoryLimitBytes;
    const how = oom
      ? `killed: out of memory${memory === undefined ? "" : ` (limit ${memory} bytes)`}`
      : code !== null
        ? `exited with code ${code}`
        : signal !== null
          ? `killed by ${signal}`
          : "exited";
    const slot = replica.slot === undefined ? undefined : state.slots[replica.slot];
    const expected = replica.stopIntent === "remove";
    if (slot === undefined || slot.replicaId !== id || expected) {
      this.journal.step(state.rollout, "stopped", how, id);
      this.deps.emit({
        type: "replica.stopped",
        app,
        replica: id,
        message: `${id} stopped (${how})`,
        data: { code, signal, oom },
      });
      return;
    }
    const uptime = this.now() - replica.handle.startedAt;
    const wait = slot.backoff.onExit(uptime);
    slot.replicaId = undefined;
    slot.restarts += 1;
    slot.restartAt = this.now() + wait;
    slot.lastReplicaId = id;
    slot.lastExit = how;
    const rollout = state.rollout;
    if (rollout?.state === "progressing" && replica.revision === rollout.toRevision) {
      // A new revision that exits fails its rollout; this pass rolls it back.
      state.pendingFailure = { reason: `${id} ${how}`, replica: id };
    }
    // The replacement (or the rollback) is on its way, in this pass, before the exit is
    // even described: reading the replica's last output takes a while.
    const restarts = slot.restarts;
    void this.describeExit(app, replica, how, { code, signal, oom, uptime, wait, restarts });
  }

  private async describeExit(
    app: string,
    replica: Replica,
    how: string,
    exit: {
      code: number | null;
      signal: string | null;
      oom: boolean;
      uptime: number;
      wait: number;
      restarts: number;
    },
  ): Promise<void> {
    const id = replica.handle.id;
    const output = await this.lastOutput(app, id, replica.handle.driver);
    const last = output.at(-1);
    const { code, signal, oom, uptime, wait, restarts } = exit;
    this.deps.emit({
      type: "replica.exited",
      app,
      replica: id,
      message: `${id} ${how}; ${wait === 0 ? "replacing it now" : `crash-loop: replacing it in ${wait}ms`}${last ? ` — last output: ${last.slice(0, 200)}` : ""}`,
      data: {
        code,
        signal,
        ...(oom ? { oom } : {}),
        uptimeMs: uptime,
        restartInMs: wait,
        restarts,
        lastOutput: output,
      },
    });
  }

  /** The last lines a replica wrote: why it died, most of the time. */
  private async lastOutput(app: string, id: string, runtime: RuntimeKind): Promise<string[]> {
    const lines: string[] = [];
    try {
      for await (const line of this.driverFor(runtime).logs({ id, app }, { tail: 5 }))
        lines.push(line.line);
    } catch {
      // no log: nothing to add
    }
    return lines;
  }

  /** A new proxy process knows only its last saved routes: send every pool again. */
  resendRoutes(): void {
    for (const [name, state] of this.apps) {
      state.lastRoute = undefined;
      this.deps.requeue(name);
    }
  }

  /** Stops every replica of every app (for `baton down`), each in its app's turn. */
  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.apps.keys()].map(async (name) => {
        const state = this.stateOf(name);
        await this.inTurn(state, async () => {
          this.setSpec(name, state, undefined, { trigger: "apply", by: this.appliedBy });
          state.deleting = true;
          await this.removeApp(name, state);
          // The last pass: no other follows `baton down`. Exits already told are applied; a
          // replica whose stop resolved runs no more, whether or not its exit was told yet.
          this.applyInbox(name, state);
          for (const replica of state.replicas.values()) {
            this.deps.records.removeReplica(replica.handle.id);
          }
        });
      }),
    );
  }

  private stateOf(name: string): AppState {
    let state = this.apps.get(name);
    if (state === undefined) {
      state = {
        spec: undefined,
        definitionRevision: "",
        revision: "",
        targetSpec: undefined,
        specs: new Map(),
        stable: this.deps.rollouts.servingRevision(name),
        rollout: undefined,
        blocked: undefined,
        failedFirst: undefined,
        pendingFailure: undefined,
        desired: 0,
        slots: [],
        replicas: new Map(),
        converged: false,
        waitingFor: [],
        lastRoute: undefined,
        pooled: new Set(),
        proxyError: undefined,
        adopting: false,
        deleting: false,
        proxyChain: Promise.resolve(),
        inbox: [],
        turn: Promise.resolve(),
      };
      this.apps.set(name, state);
    }
    return state;
  }

  /** The spec of one revision of the app: the definition's, else the one the store kept. */
  private specOf(name: string, state: AppState, revision: string): AppSpec | undefined {
    const known = state.specs.get(revision);
    if (known !== undefined) return known;
    const stored = this.deps.rollouts.revision(name, revision);
    if (stored === undefined) return undefined;
    const spec = JSON.parse(stored.spec) as AppSpec;
    state.specs.set(revision, spec);
    return spec;
  }

  private setSpec(name: string, state: AppState, spec: AppSpec | undefined, actor: Actor): void {
    state.spec = spec;
    if (spec === undefined) {
      state.desired = 0;
      // Removed or stopped mid-rollout: the rollout ends here, it is not left in progress.
      const active = state.rollout ?? this.deps.rollouts.active(name);
      if (active !== undefined) {
        this.deps.rollouts.update(active.id, {
          state: "superseded",
          reason: `${name} was removed or stopped during the rollout`,
          finished: true,
          step: { action: "superseded", detail: "app removed or stopped" },
        });
        state.rollout = undefined;
      }
      return;
    }
    const store = this.deps.rollouts;
    const revision = appRevision(spec);
    state.specs.set(revision, spec);
    store.saveRevision(name, revision, spec);
    if (state.definitionRevision !== revision) {
      // The definition moved: revisions it gave up on may be tried again some day.
      store.clearBadExcept(name, revision);
      state.definitionRevision = revision;
    }
    let pin = store.pin(name);
    if (pin !== undefined && pin.baseRevision !== revision) {
      store.clearPin(name);
      pin = undefined;
    }
    let why = actor.why;
    const mark = store.revision(name, revision);
    if (pin === undefined && mark !== undefined && failedUnderOtherPolicy(mark, spec.update)) {
      // The user's fix for a failure the revision cannot show: how it rolls out.
      why = `retried: it failed under another update policy (${policyChange(mark, spec.update)})`;
      store.clearBad(name, revision);
    }
    const bad = pin === undefined ? store.revision(name, revision)?.badReason : undefined;
    state.blocked =
      bad === undefined || bad === null
        ? undefined
        : store.history(name, 20).find((r) => r.toRevision === revision && r.reason !== null);
    const target =
      pin?.revision ?? (state.blocked !== undefined && state.stable ? state.stable : revision);
    state.desired = this.deps.scaleOverride(spec.name) ?? spec.replicas;
    this.retarget(name, state, target, why === undefined ? actor : { ...actor, why });
  }

  /** The definition's revision of the app is bad, but failed under another update policy. */
  private retriesOnPolicy(name: string, revision: string, spec: AppSpec): boolean {
    const store = this.deps.rollouts;
    if (store.pin(name) !== undefined) return false;
    return failedUnderOtherPolicy(store.revision(name, revision), spec.update);
  }

  /** Points the app at `target`, and records the rollout that takes it there. */
  private retarget(name: string, state: AppState, target: string, actor: Actor): void {
    if (target !== state.revision) {
      // Replicas of another revision leave their slots: they are replaced by the rollout.
      // Slots start over with a clean backoff.
      for (const replica of state.replicas.values()) {
        if (replica.revision !== target) replica.slot = undefined;
      }
      state.slots.length = 0;
      state.revision = target;
    }
    state.targetSpec = this.specOf(name, state, target) ?? state.spec;
    const restart = state.targetSpec?.restart;
    if (restart !== undefined) for (const slot of state.slots) slot.backoff.setPolicy(restart);

    const active = state.rollout ?? this.deps.rollouts.active(name);
    if (active !== undefined) {
      const resumes =
        (active.state === "progressing" && active.toRevision === target) ||
        (active.state === "rolling-back" && active.fromRevision === target);
      if (resumes) {
        state.rollout = active;
        if (active.state === "rolling-back") state.blocked = active;
        return;
      }
    }
    if (target === state.stable) {
      if (active !== undefined) {
        this.deps.rollouts.update(active.id, {
          state: "superseded",
          reason: `${name} went back to ${target}`,
          finished: true,
          step: { action: "superseded", detail: `back to ${target}` },
        });
      }
      state.rollout = undefined;
      return;
    }
    if (active === undefined && state.failedFirst?.toRevision === target) return;
    state.failedFirst = undefined;
    state.rollout = this.journal.begin(
      name,
      state.stable ?? null,
      target,
      actor.trigger,
      actor.by,
      actor.why,
    );
  }

  private resizeSlots(name: string, state: AppState, target: AppSpec): void {
    while (state.slots.length < state.desired) {
      state.slots.push({
        backoff: new SlotBackoff(target.restart),
        replicaId: undefined,
        starting: false,
        restartAt: 0,
        restarts: 0,
        lastReplicaId: undefined,
        lastExit: "",
      });
    }
    // Unslotted live replicas of the target revision (adopted, or surplus) fill empty slots.
    for (const replica of state.replicas.values()) {
      if (replica.slot !== undefined || replica.revision !== state.revision) continue;
      if (replica.state === "stopping" || replica.stopIntent === "remove") continue;
      const free = state.slots.findIndex((s) => s.replicaId === undefined && !s.starting);
      if (free === -1) break;
      const slot = state.slots[free];
      if (slot === undefined) break;
      slot.replicaId = replica.handle.id;
      slot.restarts = replica.restarts;
      replica.slot = free;
    }
    if (state.slots.length > state.desired) {
      const removed = state.slots.splice(state.desired);
      for (const slot of removed) {
        const replica =
          slot.replicaId === undefined ? undefined : state.replicas.get(slot.replicaId);
        if (replica !== undefined) replica.slot = undefined;
      }
      this.deps.emit({
        type: "app.scaled",
        app: name,
        message: `${name} scaled down to ${state.desired}`,
        data: { replicas: state.desired },
      });
    }
  }

  /**
   * Starts a replica in a slot: the effect of a pass's decision. What came of it reaches the
   * app's state through the next pass, like any other event.
   */
  private async startReplica(
    name: string,
    state: AppState,
    spec: AppSpec,
    slotIndex: number,
    slot: Slot,
  ): Promise<void> {
    const revision = state.revision;
    const id = `${name}-${revision.slice(0, 6)}-${randomBytes(3).toString("hex")}`;
    try {
      const port = await this.deps.allocatePort();
      const handle = await this.startIn(spec, { id, name, revision, port });
      this.observe(name, state, { kind: "started", slot, slotIndex, revision, spec, handle });
    } catch (error) {
      const message = (error as Error).message;
      this.observe(name, state, { kind: "start-failed", slot, revision, id, message });
    }
  }

  private applyStarted(
    name: string,
    state: AppState,
    started: Extract<Observation, { kind: "started" }>,
  ): void {
    const { slot, slotIndex, revision, spec, handle } = started;
    const id = handle.id;
    slot.starting = false;
    if (
      state.spec === undefined ||
      state.revision !== revision ||
      state.slots[slotIndex] !== slot
    ) {
      // The target changed while it started: this replica belongs to no slot.
      state.replicas.set(id, this.newReplica(handle, revision, undefined, slot.restarts));
      return;
    }
    slot.replicaId = id;
    const replica = this.newReplica(handle, revision, slotIndex, slot.restarts);
    state.replicas.set(id, replica);
    const { pid } = this.driverOf(handle).describe(handle);
    const port = handle.port;
    this.deps.records.putReplica({
      id,
      app: name,
      revision,
      runtime: handle.driver,
      pid: pid ?? null,
      startTicks: null,
      port,
      startedAt: handle.startedAt,
      state: "starting",
      restarts: slot.restarts,
    });
    const where = pid === undefined ? `port ${port}` : `pid ${pid}, port ${port}`;
    this.journal.step(state.rollout, "started", where, id);
    this.deps.emit({
      type: "replica.started",
      app: name,
      replica: id,
      message: `${id} started (${where})`,
      data: { pid, port, revision },
    });
    this.watchHealth(name, state, replica);
    this.scheduleStableReset(name, state, slot, id, spec);
  }

  private applyStartFailed(
    name: string,
    state: AppState,
    failed: Extract<Observation, { kind: "start-failed" }>,
  ): void {
    const { slot, revision, id } = failed;
    slot.starting = false;
    const wait = slot.backoff.onExit(0);
    slot.restarts += 1;
    slot.restartAt = this.now() + wait;
    slot.lastExit = `failed to start: ${failed.message}`;
    this.deps.emit({
      type: "replica.start_failed",
      app: name,
      message: `${name}: ${slot.lastExit}; retrying in ${wait}ms`,
      data: { restartInMs: wait },
    });
    if (state.rollout?.state === "progressing" && state.rollout.toRevision === revision) {
      state.pendingFailure = { reason: slot.lastExit, replica: id };
    }
  }

  /**
   * Starts one replica on its app's driver, which says what the replica gets of the app's
   * definition, its environment and its folder; Baton's own variables come last.
   */
  private async startIn(
    spec: AppSpec,
    replica: { id: string; name: string; revision: string; port: number },
  ): Promise<Handle> {
    const driver = this.driverFor(spec.runtime);
    const started = await driver.specFor(
      spec,
      { id: replica.id, app: replica.name, revision: replica.revision, port: replica.port },
      {
        baseEnv: this.deps.baseEnv,
        snapshot: () => this.deps.snapshots.prepare(replica.name, spec),
      },
    );
    const own = {
      BATON_APP: replica.name,
      BATON_REPLICA: replica.id,
      BATON_REVISION: replica.revision,
    };
    return driver.start({ ...started, env: { ...started.env, ...own } });
  }

  /** An exec probe of a replica whose driver execs runs inside it, as its app sees it. */
  private execIn(replica: Replica): ProbeTarget["exec"] {
    const exec = execOf(this.driverOf(replica.handle));
    if (exec === undefined) return undefined;
    return async (argv, timeoutMs) => {
      const code = await exec(replica.handle, argv, timeoutMs);
      if (code === 0) return "";
      return code === null
        ? `exec ${argv[0]}: no exit within ${timeoutMs}ms`
        : `exec ${argv[0]}: exited with ${code}`;
    };
  }

  private driverFor(kind: RuntimeKind): Driver {
    return this.deps.drivers.get(kind);
  }

  private driverOf(handle: Handle): Driver {
    return this.driverFor(handle.driver);
  }

  private newReplica(
    handle: Handle,
    revision: string,
    slot: number | undefined,
    restarts: number,
  ): Replica {
    return {
      handle,
      revision,
      slot,
      state: "starting",
      ready: false,
      detail: "",
      restarts,
      health: undefined,
      heard: { ready: false, detail: "" },
      stopIntent: undefined,
    };
  }

  /** A replica that ran `restart.resetAfter` resets its slot's backoff, in a pass. */
  private scheduleStableReset(
    name: string,
    state: AppState,
    slot: Slot,
    id: string,
    spec: AppSpec,
  ): void {
    const timer = setTimeout(() => {
      if (slot.replicaId === id) this.observe(name, state, { kind: "stable", slot, id });
    }, spec.restart.resetAfterMs);
    timer.unref();
  }

  private watchHealth(name: string, state: AppState, replica: Replica): void {
    const spec = this.specOf(name, state, replica.revision) ?? state.targetSpec ?? state.spec;
    if (spec === undefined) return;
    const readiness = spec.health.readiness ?? defaultReadiness(state.spec ?? spec);
    const exec = this.execIn(replica);
    const health = new ReplicaHealth(
      readiness,
      spec.health.liveness,
      {
        host: replica.handle.host,
        port: replica.handle.port,
        cwd: this.deps.snapshots.dir(name, spec),
        env: { ...this.deps.baseEnv, ...spec.env, PORT: String(replica.handle.port) },
        ...(exec === undefined ? {} : { exec }),
      },
      {
        onReadiness: (ready, detail) => {
          // Told once per change: the checker repeats a failing verdict at every check.
          if (replica.heard.ready === ready && replica.heard.detail === detail) return;
          replica.heard = { ready, detail };
          this.observe(name, state, { kind: "readiness", replica, ready, detail });
        },
        onLivenessFailed: (detail) => {
          this.observe(name, state, { kind: "liveness-failed", replica, detail });
        },
      },
      replica.ready,
    );
    replica.health = health;
    health.start();
  }

  private applyReadiness(
    name: string,
    state: AppState,
    replica: Replica,
    verdict: { readonly ready: boolean; readonly detail: string },
  ): void {
    if (replica.state === "stopping" || state.replicas.get(replica.handle.id) !== replica) return;
    const { ready, detail } = verdict;
    const changed = replica.ready !== ready;
    replica.ready = ready;
    replica.detail = detail;
    replica.state = ready ? "ready" : replica.state === "starting" ? "starting" : "unready";
    if (!changed) return;
    this.deps.records.updateReplica(replica.handle.id, { state: ready ? "ready" : "running" });
    this.journal.step(
      state.rollout,
      ready ? "ready" : "unready",
      ready ? "" : detail,
      replica.handle.id,
    );
    this.deps.emit({
      type: ready ? "replica.ready" : "replica.unready",
      app: name,
      replica: replica.handle.id,
      message: ready
        ? `${replica.handle.id} is ready`
        : `${replica.handle.id} is not ready: ${detail}`,
    });
    state.adopting = false;
  }

  private applyLivenessFailed(
    name: string,
    state: AppState,
    replica: Replica,
    detail: string,
  ): void {
    if (replica.state === "stopping" || state.replicas.get(replica.handle.id) !== replica) return;
    this.deps.emit({
      type: "replica.unhealthy",
      app: name,
      replica: replica.handle.id,
      message: `${replica.handle.id} failed its liveness check (${detail}); restarting it`,
    });
    void this.stopReplica(name, state, replica, "restart");
  }

  private async stopReplica(
    name: string,
    state: AppState,
    replica: Replica,
    intent: "restart" | "remove",
  ): Promise<void> {
    if (replica.state === "stopping") return;
    const inPool = state.pooled.has(replica.handle.id);
    replica.state = "stopping";
    replica.ready = false;
    replica.stopIntent = intent;
    replica.health?.stop();
    // Recorded first: a controller killed from here on finishes the stop, never re-pools it.
    this.deps.records.updateReplica(replica.handle.id, { state: "stopping" });
    const own = this.specOf(name, state, replica.revision) ?? state.spec;
    const grace = own?.stopGraceMs ?? 10_000;
    const drainMs = (state.spec ?? state.targetSpec)?.update.drainTimeoutMs ?? 10_000;
    if (inPool && state.spec?.port !== undefined) {
      await this.syncProxy(name, state);
      try {
        const drained = await this.deps.proxy.drain(name, replica.handle.id, drainMs);
        this.journal.step(
          state.rollout,
          "drained",
          drained.drained
            ? "no request in flight"
            : `${drained.inflight} request(s) still in flight after ${formatDuration(drainMs)}`,
          replica.handle.id,
        );
      } catch {
        // A proxy that cannot answer has no requests of ours to drain.
      }
    }
    await this.driverOf(replica.handle).stop(replica.handle, grace);
  }

  private async removeApp(name: string, state: AppState): Promise<void> {
    state.slots.length = 0;
    const stops = [...state.replicas.values()].map((r) =>
      this.stopReplica(name, state, r, "remove"),
    );
    await Promise.all(stops);
    if (state.lastRoute !== undefined) {
      try {
        await this.deps.proxy.deleteRoute(name, 10_000);
      } catch {
        // The proxy may be gone already (baton down).
      }
      state.lastRoute = undefined;
      state.pooled = new Set();
    }
    if (state.replicas.size === 0 && state.spec === undefined) {
      this.apps.delete(name);
      this.deps.emit({ type: "app.deleted", app: name, message: `${name} removed` });
    }
  }

  private syncProxy(name: string, state: AppState): Promise<void> {
    state.proxyChain = state.proxyChain.then(() => this.sendRoute(name, state));
    return state.proxyChain;
  }

  private async sendRoute(name: string, state: AppState): Promise<void> {
    const spec = state.spec;
    if (spec?.port === undefined) return;
    const backends = [...state.replicas.values()]
      .filter((r) => r.ready && r.state !== "stopping")
      .map((r) => ({ id: r.handle.id, host: r.handle.host, port: r.handle.port }))
      .sort((a, b) => a.id.localeCompare(b.id));
    // Until an adopted replica's health is known, trust what the proxy serves already.
    if (state.adopting && backends.length === 0) return;
    const route: ProxyRoute = {
      port: spec.port,
      host: spec.listen,
      protocol: spec.protocol,
      backends,
    };
    const key = JSON.stringify(route);
    if (key === state.lastRoute) return;
    try {
      await this.deps.proxy.setRoute(name, route);
      state.lastRoute = key;
      const pool = new Set(backends.map((b) => b.id));
      for (const id of pool) {
        if (!state.pooled.has(id)) this.journal.step(state.rollout, "pooled", "", id);
      }
      for (const id of state.pooled) {
        if (!pool.has(id)) this.journal.step(state.rollout, "unpooled", "", id);
      }
      state.pooled = pool;
      if (state.proxyError !== undefined) {
        state.proxyError = undefined;
        this.deps.emit({
          type: "proxy.ok",
          app: name,
          message: `${name}: proxy serves port ${spec.port}`,
        });
      }
    } catch (error) {
      const message = (error as Error).message;
      if (state.proxyError !== message) {
        state.proxyError = message;
        this.deps.emit({ type: "proxy.error", app: name, message: `${name}: ${message}` });
      }
      this.deps.requeue(name, 2_000);
    }
  }
}

function unknownApp(name: string): RollbackError {
  return new RollbackError("rollback.unknown_app", `there is no app named ${JSON.stringify(name)}`);
}

/** `waiting for db`, `waiting for db, cache`: what an app holds its starts for. */
function waitingText(dependencies: readonly string[]): string {
  return `waiting for ${dependencies.join(", ")}`;
}

/**
 * An app with a port and no readiness probe is ready once its PORT accepts connections.
 * Checked quickly until first ready, then every 5 s: cheap enough for many idle apps.
 */
function defaultReadiness(spec: AppSpec): Probe | undefined {
  if (spec.port === undefined) return undefined;
  return {
    kind: "tcp",
    intervalMs: 5_000,
    timeoutMs: 1_000,
    failureThreshold: 1,
    successThreshold: 1,
    initialDelayMs: 0,
  };
}
