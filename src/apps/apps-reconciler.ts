import type { Reconciler } from "../controller/reconciler.js";
import type { AppSpec, Definition } from "../definition/index.js";
import type { Change, DesiredResource, ObservedResource } from "../engine/index.js";
import type { DriverEvent, Handle, ReplicaStats } from "../runtime/driver.js";
import { delay } from "../util/wait.js";
import { decideStarts } from "./app-decision.js";
import {
  type AppState,
  isConverged,
  newAppState,
  type Observation,
  type PassPoint,
  type Replica,
} from "./app-state.js";
import { appStatuses, rolloutStatus, waitingText } from "./app-status-view.js";
import {
  failRollout,
  resizeSlots,
  retriesOnPolicy,
  retryNow,
  rollbackNow,
  setSpec,
  trackRollout,
  unknownApp,
} from "./app-target.js";
import { type AppsContext, type AppsDeps, driverOf } from "./apps-context.js";
import { applyInbox } from "./observations.js";
import { syncProxy } from "./proxy-route.js";
import { removeApp, startReplica, stopReplica, watchHealth } from "./replica-effects.js";
import type { ProbeKind, ProbeStats } from "./replica-health.js";
import { APP_KIND, desiredApps, observedApps } from "./resources.js";
import { RolloutJournal } from "./rollout-journal.js";
import { type ReplicaView, resolveBudget } from "./rollout-plan.js";
import type { RolloutRecord, RolloutStatus } from "./rollout-types.js";
import type { AppStatus } from "./status.js";

// The reconciler's ports and the constants other parts of Baton read, where they always were.
export type { PassPoint } from "./app-state.js";
export { KEPT_ROLLOUTS } from "./app-target.js";
export type { AppsDeps, ProxyPort, ProxyRoute } from "./apps-context.js";

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
  /** What the parts of a pass (observations, target, effects, views) share of this one. */
  private readonly ctx: AppsContext;
  private appliedBy = "baton";

  constructor(private readonly deps: AppsDeps) {
    this.now = deps.now ?? Date.now;
    this.ctx = {
      deps,
      journal: new RolloutJournal(deps.rollouts, deps.emit),
      now: this.now,
      apps: this.apps,
      observe: (name, state, observation) => this.observe(name, state, observation),
    };
  }

  desired(definition: Definition): DesiredResource[] {
    return desiredApps(definition, this.deps.scaleOverride, (app, revision) => {
      const state = this.apps.get(app);
      if (state === undefined || state.definitionRevision !== revision) return revision;
      // A bad revision about to be retried under a new update policy: a rollout to it.
      const spec = definition.apps[app];
      if (spec !== undefined && retriesOnPolicy(this.ctx, app, revision, spec)) return revision;
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
      setSpec(this.ctx, name, state, spec, { trigger: "apply", by });
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
      setSpec(this.ctx, name, state, state.spec, { trigger: "apply", by: this.appliedBy });
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
    return this.inTurn(state, () => rollbackNow(this.ctx, name, state, to, by));
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
    return this.inTurn(state, () => retryNow(this.ctx, name, state, by));
  }

  /** `baton rollout status`: the current rollout, else the last, with live counts. */
  rolloutStatus(name: string): RolloutStatus {
    return rolloutStatus(this.ctx, name);
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
    applyInbox(this.ctx, name, state);
    await this.passPoint("observed", name);
    const spec = state.spec;
    if (spec === undefined) {
      // Only a definition that no longer has the app removes it; an app adopted before any
      // definition was applied is left alone.
      if (state.deleting) await removeApp(this.ctx, name, state);
      return;
    }
    if (state.pendingFailure !== undefined) {
      const failure = state.pendingFailure;
      state.pendingFailure = undefined;
      await failRollout(this.ctx, name, state, failure.reason, failure.replica, spec.update);
    }
    const target = state.targetSpec ?? spec;
    resizeSlots(this.ctx, name, state, target);
    for (const replica of state.replicas.values()) {
      if (replica.stopIntent === "remove" && replica.state !== "stopping") {
        void stopReplica(this.ctx, name, state, replica, "remove");
      } else if (replica.health === undefined && replica.state !== "stopping") {
        watchHealth(this.ctx, name, state, replica);
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
      void startReplica(this.ctx, name, state, target, index, slot);
    }
    await this.passPoint("started", name);
    // New ready replicas join the pool before any old one leaves it.
    await syncProxy(this.ctx, name, state);
    await this.passPoint("pooled", name);
    for (const id of decision.stopOld) {
      const replica = state.replicas.get(id);
      if (replica !== undefined) void stopReplica(this.ctx, name, state, replica, "remove");
    }
    await this.passPoint("stopped", name);
    await trackRollout(this.ctx, name, state, spec);
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

  private announceConvergence(name: string, state: AppState, spec: AppSpec): void {
    const converged = isConverged(state);
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
          driverOf(this.ctx, replica.handle)
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
    return appStatuses(this.ctx);
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
        void driverOf(this.ctx, observation.handle)
          .stop(observation.handle, observation.spec.stopGraceMs)
          .catch(() => {});
      }
      return;
    }
    state.inbox.push(observation);
    this.deps.requeue(name);
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
          setSpec(this.ctx, name, state, undefined, { trigger: "apply", by: this.appliedBy });
          state.deleting = true;
          await removeApp(this.ctx, name, state);
          // The last pass: no other follows `baton down`. Exits already told are applied; a
          // replica whose stop resolved runs no more, whether or not its exit was told yet.
          applyInbox(this.ctx, name, state);
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
      state = newAppState(this.deps.rollouts.servingRevision(name));
      this.apps.set(name, state);
    }
    return state;
  }
}
