import type { Reconciler } from "../controller/reconciler.js";
import type { Definition } from "../definition/index.js";
import type { DriverEvent, Handle, ReplicaStats } from "../runtime/driver.js";
import type { DriverRegistry } from "../runtime/registry.js";
import { type AppsDeps, AppsReconciler } from "./apps-reconciler.js";
import { APP_KIND } from "./resources.js";
import type { RolloutRecord, RolloutStatus } from "./rollout-types.js";
import { WithoutScheduledApps } from "./runtime-split.js";
import { ScheduledAppsReconciler } from "./scheduled-apps.js";
import type { AppStatus } from "./status.js";

export interface AppFleetDeps extends Omit<AppsDeps, "drivers" | "requeue"> {
  readonly drivers: DriverRegistry;
  /** Asks the work queue for a pass over `kind/app`, now or later. */
  readonly requeue: (key: string, afterMs?: number) => void;
}

/**
 * Every app of the definition, whichever driver runs it: the one object the controller asks
 * about an app. Apps of drivers that run replicas one by one go to the replica-level
 * reconciler (apps-reconciler.ts); apps of a driver whose scheduler owns their rollout go to
 * that driver's scheduled-apps reconciler. Which one is told by the driver's capabilities.
 */
export class AppFleet {
  /** The replica-level reconciler. */
  readonly replicas: AppsReconciler;
  /** One per scheduler-backed driver. */
  private readonly scheduled: readonly ScheduledAppsReconciler[];
  /** What the engine plans over and the work queue reconciles, by kind. */
  readonly reconcilers: readonly Reconciler[];

  constructor(deps: AppFleetDeps) {
    this.replicas = new AppsReconciler({
      ...deps,
      requeue: (app, afterMs) => deps.requeue(`${APP_KIND}/${app}`, afterMs),
    });
    this.scheduled = deps.drivers.schedulers().map((driver) => {
      const reconciler: ScheduledAppsReconciler = new ScheduledAppsReconciler({
        driver,
        proxy: deps.proxy,
        rollouts: deps.rollouts,
        scaleOverride: deps.scaleOverride,
        emit: deps.emit,
        requeue: (app, afterMs) => deps.requeue(`${reconciler.kind}/${app}`, afterMs),
        ...(deps.secretEnv === undefined ? {} : { secretEnv: deps.secretEnv }),
        ...(deps.groupSecretFiles === undefined ? {} : { secretFiles: deps.groupSecretFiles }),
      });
      return reconciler;
    });
    this.reconcilers = [new WithoutScheduledApps(this.replicas, deps.drivers), ...this.scheduled];
  }

  setAppliedBy(by: string): void {
    this.replicas.setAppliedBy(by);
    for (const s of this.scheduled) s.setAppliedBy(by);
  }

  /** Re-reads an app's desired count after `baton scale`. */
  rescale(app: string): void {
    const owner = this.schedulerOf(app);
    if (owner === undefined) void this.replicas.rescale(app);
    else owner.rescale(app);
  }

  rolloutStatus(app: string): RolloutStatus {
    return (this.schedulerOf(app) ?? this.replicas).rolloutStatus(app);
  }

  async rollback(app: string, to: string | undefined, by: string): Promise<RolloutRecord> {
    return (this.schedulerOf(app) ?? this.replicas).rollback(app, to, by);
  }

  async retry(app: string, by: string): Promise<RolloutRecord> {
    return (this.schedulerOf(app) ?? this.replicas).retry(app, by);
  }

  status(): AppStatus[] {
    return [...this.replicas.status(), ...this.scheduled.flatMap((s) => s.status())];
  }

  /** Replicas the drivers found again, and the proxy's pool, become the replica-level's. */
  adopt(handles: readonly Handle[], inProxyPool: ReadonlySet<string>): void {
    this.replicas.adopt(handles, inProxyPool);
  }

  /**
   * Groups of this state directory the schedulers still run become ours again; returns how
   * many. A scheduler that does not answer is told to `onError` only when the definition
   * has apps on it: without them, nothing of ours can be there.
   */
  async adoptGroups(
    definition: Definition,
    onError: (driver: string, error: Error) => void,
  ): Promise<number> {
    let adopted = 0;
    for (const reconciler of this.scheduled) {
      try {
        adopted += await reconciler.adopt(definition.project);
      } catch (error) {
        const name = reconciler.driverName;
        if (Object.values(definition.apps).some((app) => app.runtime === name)) {
          onError(name, error as Error);
        }
      }
    }
    return adopted;
  }

  /** The schedulers' changes wake the apps they concern, until `close`. */
  watch(): void {
    for (const s of this.scheduled) void s.watch();
  }

  onReplicaExited(event: DriverEvent): void {
    this.replicas.onReplicaExited(event);
  }

  replicaStats(): Promise<Map<string, ReplicaStats>> {
    return this.replicas.replicaStats();
  }

  liveReplicas(): ReturnType<AppsReconciler["liveReplicas"]> {
    return this.replicas.liveReplicas();
  }

  /** The proxy restarted without its routes: every app sends its pool again. */
  resendRoutes(): void {
    this.replicas.resendRoutes();
    for (const s of this.scheduled) s.resendRoutes();
  }

  /**
   * `baton down`: every replica stops and every group is removed. A scheduler that refuses
   * to remove one is told to `onError`: it must not leave the proxy up or the lease held.
   */
  async stopAll(onError: (driver: string, error: Error) => void): Promise<void> {
    await this.replicas.stopAll();
    for (const s of this.scheduled) {
      await s.removeAll().catch((error: unknown) => onError(s.driverName, error as Error));
    }
  }

  /** Releases the schedulers' change streams; everything keeps running. */
  close(): void {
    for (const s of this.scheduled) s.close();
  }

  private schedulerOf(app: string): ScheduledAppsReconciler | undefined {
    return this.scheduled.find((s) => s.has(app));
  }
}
