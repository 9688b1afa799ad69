import type { Reconciler } from "../controller/reconciler.js";
import type { AppSpec, Definition } from "../definition/index.js";
import { appRevision } from "../definition/index.js";
import type { Change, DesiredResource, ObservedResource } from "../engine/index.js";
import {
  buildServiceSpec,
  type Service,
  type ServiceSpec,
  type SwarmClient,
  serviceName,
  specDrift,
  type Task,
} from "../runtime/swarm/index.js";
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
import type { AppStatus, ReplicaStateName, ReplicaStatus } from "./status.js";
import { desiredSwarmApps, observedService, SWARM_APP_KIND } from "./swarm-resources.js";

/** How often an app is looked at while Swarm moves it (an update, tasks starting). */
const MOVING_POLL_MS = 300;
/** How often a settled app is looked at, besides engine events and the controller's resync. */
const SETTLED_POLL_MS = 5_000;
const LOOPBACK = "127.0.0.1";
/** First retry of a failed pass; doubled up to MAX_RETRY_MS. */
const RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

export interface SwarmAppsDeps {
  readonly client: SwarmClient;
  /** The state directory, absolute: the `baton.state` label of every service of ours. */
  readonly stateDir: string;
  readonly proxy: ProxyPort;
  readonly rollouts: RolloutStorePort;
  readonly scaleOverride: (app: string) => number | undefined;
  readonly emit: (event: NewEvent) => void;
  readonly requeue: (app: string, afterMs?: number) => void;
}

interface SwarmAppState {
  /** The definition's spec; undefined once the app is to be removed. */
  spec: AppSpec | undefined;
  project: string;
  /** The service as last read, and its tasks. */
  service: Service | undefined;
  tasks: Task[];
  /** Node id → the address its host-mode ports are reached at. */
  nodes: Map<string, string>;
  /** Container id → image id, for tasks on this engine (digests do not change). */
  readonly images: Map<string, string>;
  /** UpdateStatus last reported, `State@StartedAt`, to report each transition once. */
  lastUpdate: string | undefined;
  /** Last route sent to the proxy, to send only changes. */
  lastRoute: string | undefined;
  /** Why the last pass failed (no swarm, a name taken...), shown by status. */
  error: string | undefined;
  /** Passes failed in a row, for the retry backoff. */
  failures: number;
  /** Why the next rollout starts, when a bad revision is retried (for its journal). */
  retryWhy: string | undefined;
}

/**
 * Keeps apps with `runtime: swarm` equal to the definition as Swarm services. Swarm itself
 * schedules, restarts and rolls the tasks (start-first within maxSurge, its health check
 * gating each task, rollback on failure); this reconciler writes the service spec, puts
 * back what was changed or deleted by hand (reported as drift), fronts the running tasks
 * with Baton's proxy, and journals Swarm's rollouts in the rollout store. Everything is
 * read again from the engine on each pass: a restarted controller adopts services by label.
 */
export class SwarmAppsReconciler implements Reconciler {
  readonly kind = SWARM_APP_KIND;
  private readonly apps = new Map<string, SwarmAppState>();
  private appliedBy = "baton";
  private readonly watching = new AbortController();

  constructor(private readonly deps: SwarmAppsDeps) {}

  /** Services of this state directory left by a previous controller become ours again. */
  async adopt(project: string): Promise<number> {
    const services = await this.ourServices();
    for (const service of services) {
      const app = service.Spec.Labels["baton.app"];
      if (app === undefined) continue;
      const state = this.stateOf(app, project);
      state.service = service;
    }
    return services.length;
  }

  setAppliedBy(by: string): void {
    this.appliedBy = by;
  }

  desired(definition: Definition): DesiredResource[] {
    return desiredSwarmApps(definition, this.deps.scaleOverride, (app, revision) => {
      const live = this.apps.get(app)?.service?.Spec.Labels["baton.revision"];
      const spec = definition.apps[app];
      // A revision Swarm rolled back: the plan compares with what is kept running, unless
      // it failed under another update policy than this one (it is retried: a rollout).
      const held = this.isBad(app, revision) && !(spec && this.retriesOnPolicy(app, spec));
      return live !== undefined && held ? live : revision;
    });
  }

  observed(): ObservedResource[] {
    return [...this.apps].flatMap(([name, state]) =>
      state.service === undefined
        ? []
        : [
            observedService(
              name,
              state.service,
              state.spec === undefined ? undefined : appSettings(state.spec),
            ),
          ],
    );
  }

  async apply(change: Change, definition: Definition): Promise<void> {
    const name = change.key.name;
    const state = this.stateOf(name, definition.project);
    const spec = change.type === "delete" ? undefined : definition.apps[name];
    state.spec = spec?.runtime === "swarm" ? spec : undefined;
    state.project = definition.project;
    if (state.spec !== undefined) {
      // Kept for `baton history` and the revision's bad mark when Swarm rolls it back.
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
      // Reported once per distinct reason, retried with backoff: an engine that is not a
      // swarm manager must not fill the event log.
      const message = (error as Error).message;
      if (message !== state.error) {
        this.emit(name, "swarm.error", `${name}: ${message}; retrying`);
      }
      state.error = message;
      state.failures++;
      this.deps.requeue(name, Math.min(RETRY_MS * 2 ** (state.failures - 1), MAX_RETRY_MS));
    }
  }

  private async converge(name: string, state: SwarmAppState): Promise<void> {
    const spec = state.spec;
    const found = await this.servicesOf(name);
    const [service, ...duplicates] = found;
    for (const extra of duplicates) {
      await this.deps.client.remove(extra.ID);
      this.emit(name, "swarm.duplicate_removed", `removed duplicate service ${extra.Spec.Name}`);
    }
    if (spec === undefined) {
      await this.removeApp(name, state, service);
      return;
    }
    if (service !== undefined) this.followUpdate(name, state, service);
    const target = this.runnableSpec(name, spec);
    const revision = appRevision(target);
    const replicas = this.deps.scaleOverride(name) ?? spec.replicas;
    const desired = buildServiceSpec(target, {
      project: state.project,
      stateDir: this.deps.stateDir,
      revision,
      replicas,
      budget: resolveBudget(spec.update, replicas),
    });
    if (service === undefined) {
      await this.createService(name, state, desired, revision);
      this.deps.requeue(name, MOVING_POLL_MS);
      return;
    }
    state.service = service;
    await this.correct(name, state, service, desired, revision);
    state.tasks = await this.deps.client.tasks(service.ID);
    await this.refreshNodes(state);
    await this.refreshImages(state);
    await this.route(name, state, spec);
    this.finishFirstDeploy(name, state, revision, replicas);
    const moving =
      service.UpdateStatus?.State === "updating" ||
      service.UpdateStatus?.State === "rollback_started" ||
      this.readyCount(state, service.Spec.Labels["baton.revision"] ?? "") < replicas ||
      state.tasks.some((t) => t.DesiredState !== "running" && t.Status.State === "running");
    this.deps.requeue(name, moving ? MOVING_POLL_MS : SETTLED_POLL_MS);
  }

  /**
   * The spec the service should have: the definition's, unless Swarm rolled that revision
   * back; then the one that served before it, until the definition changes the app. The
   * update policy is always the definition's: it is the app's, not a revision's.
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
  private retryOnPolicyChange(name: string, state: SwarmAppState, spec: AppSpec): void {
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
   * `baton rollout retry`: the definition's revision, which Swarm rolled back, is written
   * to the service again and rolled by Swarm like any update.
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
    const live = state.service?.Spec.Labels["baton.revision"];
    const rollout = store.start({
      app: name,
      from: live ?? null,
      to: revision,
      trigger: "apply",
      by,
      why: `retried by ${by}`,
    });
    this.deps.requeue(name);
    return rollout;
  }

  /**
   * `baton rollback`: the service goes back to an earlier revision's spec (`to`, or its
   * prefix; default the one that rolled out before the current one), rolled by Swarm like
   * any update. It holds until the definition changes the app's revision.
   */
  async rollback(name: string, to: string | undefined, by: string): Promise<RolloutRecord> {
    const state = this.apps.get(name);
    if (state?.spec === undefined) {
      throw new RollbackError(
        "rollback.unknown_app",
        `there is no app named ${JSON.stringify(name)}`,
      );
    }
    const store = this.deps.rollouts;
    const current =
      state.service?.Spec.Labels["baton.revision"] ??
      appRevision(this.runnableSpec(name, state.spec));
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

  /** The service is gone (first deploy, or deleted by hand): make it. */
  private async createService(
    name: string,
    state: SwarmAppState,
    desired: ServiceSpec,
    revision: string,
  ): Promise<void> {
    const wasThere = state.service !== undefined;
    const id = await this.deps.client.create(desired);
    state.service = await this.deps.client.service(id);
    state.lastUpdate = undefined;
    if (wasThere) {
      this.emit(
        name,
        "drift.detected",
        `service ${desired.Name} was removed outside Baton; created it again`,
        { fields: ["service"], service: desired.Name },
      );
    } else {
      this.emit(name, "swarm.service_created", `created service ${desired.Name} (${revision})`, {
        service: desired.Name,
        revision,
      });
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

  /**
   * Writes the desired spec over the live one when a field Baton owns differs: a new
   * revision is a rollout (Swarm rolls it), anything else is drift and is reported.
   */
  private async correct(
    name: string,
    state: SwarmAppState,
    service: Service,
    desired: ServiceSpec,
    revision: string,
  ): Promise<void> {
    const liveRevision = service.Spec.Labels["baton.revision"] ?? "";
    // Swarm is putting the previous spec back: what it writes is not drift.
    if (service.UpdateStatus?.State === "rollback_started") return;
    const fields = specDrift(desired, service.Spec);
    if (fields.length === 0) return;
    if (liveRevision !== revision) {
      // Recorded already when `baton rollback` asked for it, or by a pass running meanwhile.
      const active = this.deps.rollouts.active(name);
      const rollout =
        active?.toRevision === revision
          ? active
          : this.deps.rollouts.start({
              app: name,
              from: liveRevision === "" ? null : liveRevision,
              to: revision,
              trigger: "apply",
              by: this.appliedBy,
              ...(state.retryWhy === undefined ? {} : { why: state.retryWhy }),
            });
      state.retryWhy = undefined;
      const order = desired.UpdateConfig?.Order ?? "stop-first";
      this.deps.rollouts.appendStep(rollout.id, {
        action: "started",
        detail: `Swarm rolls ${desired.Name} (${order}, ${desired.UpdateConfig?.Parallelism ?? 1} at a time, rollback on failure)`,
      });
      this.emit(
        name,
        "rollout.started",
        `${name}: rolling ${liveRevision} → ${revision} with Swarm (${order})`,
        {
          rollout: rollout.id,
          from: liveRevision,
          to: revision,
        },
      );
    } else {
      this.emit(
        name,
        "drift.detected",
        `${name}: service ${desired.Name} was changed outside Baton (${fields.join(", ")}); the definition is applied again`,
        { fields, service: desired.Name },
      );
    }
    await this.writeSpec(state, service, desired);
  }

  private async writeSpec(
    state: SwarmAppState,
    service: Service,
    spec: ServiceSpec,
  ): Promise<void> {
    await this.deps.client.update(service.ID, service.Version.Index, spec);
    state.service = (await this.deps.client.service(service.ID)) ?? service;
  }

  /** Reports each change of Swarm's UpdateStatus once, and journals it in the rollout. */
  private followUpdate(name: string, state: SwarmAppState, service: Service): void {
    const status = service.UpdateStatus;
    if (status?.State === undefined) return;
    const key = `${status.State}@${status.StartedAt ?? ""}`;
    if (state.lastUpdate === key) return;
    const first = state.lastUpdate === undefined;
    state.lastUpdate = key;
    const rollout = this.deps.rollouts.active(name);
    const message = status.Message ?? status.State;
    const live = service.Spec.Labels["baton.revision"] ?? "";
    switch (status.State) {
      case "completed":
        if (rollout !== undefined && rollout.toRevision === live) {
          this.finish(name, rollout, "rolled-out", `Swarm: ${message}`);
        }
        break;
      case "rollback_started":
        if (rollout !== undefined && rollout.state === "progressing") {
          this.deps.rollouts.update(rollout.id, {
            state: "rolling-back",
            reason: message,
            step: { action: "rollback", detail: `Swarm: ${message}` },
          });
          this.emit(name, "rollout.rolling_back", `${name}: Swarm rolls back: ${message}`, {
            rollout: rollout.id,
          });
        }
        break;
      case "rollback_completed":
        if (rollout !== undefined && rollout.toRevision !== live) {
          this.deps.rollouts.markBad(
            name,
            rollout.toRevision,
            rollout.reason ?? message,
            state.spec === undefined ? null : policyKey(state.spec.update),
          );
          this.finish(name, rollout, "rolled-back", rollout.reason ?? message);
        }
        break;
      case "paused":
      case "rollback_paused":
        if (rollout !== undefined) {
          this.deps.rollouts.update(rollout.id, {
            state: "failed",
            reason: message,
            finished: true,
            step: {
              action: "failed",
              detail: `Swarm paused the ${status.State === "paused" ? "update" : "rollback"}: ${message}`,
            },
          });
          this.emit(name, "rollout.failed", `${name}: Swarm paused: ${message}`, {
            rollout: rollout.id,
          });
        }
        break;
      default:
        if (!first)
          this.emit(name, "swarm.update", `${name}: Swarm update ${status.State}: ${message}`);
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
        : `${name}: Swarm rolled back ${rollout.toRevision} (${detail}); ${rollout.fromRevision ?? "the previous revision"} serves`,
      { rollout: rollout.id, to: rollout.toRevision },
    );
  }

  /** A created service has no UpdateStatus: its first deploy ends when its tasks are ready. */
  private finishFirstDeploy(
    name: string,
    state: SwarmAppState,
    revision: string,
    replicas: number,
  ): void {
    const rollout = this.deps.rollouts.active(name);
    if (rollout === undefined || rollout.fromRevision !== null || rollout.toRevision !== revision)
      return;
    if (state.service?.UpdateStatus?.State !== undefined) return;
    if (this.readyCount(state, revision) >= replicas) {
      this.finish(name, rollout, "rolled-out", `${replicas} task(s) running`);
    }
  }

  /** Running tasks (health check passed) of a revision: Swarm's `running` is Baton's ready. */
  private readyTasks(state: SwarmAppState, revision?: string): Task[] {
    return state.tasks.filter(
      (t) =>
        t.DesiredState === "running" &&
        t.Status.State === "running" &&
        (revision === undefined || t.Spec.ContainerSpec?.Labels?.["baton.revision"] === revision),
    );
  }

  private readyCount(state: SwarmAppState, revision: string): number {
    return this.readyTasks(state, revision).length;
  }

  /** The proxy's pool: every running task meant to run, at its node's host-mode port. */
  private async route(name: string, state: SwarmAppState, spec: AppSpec): Promise<void> {
    if (spec.port === undefined || spec.publish === "mesh") {
      if (state.lastRoute !== undefined && state.lastRoute !== "none") {
        await this.deps.proxy.deleteRoute(name, spec.update.drainTimeoutMs);
      }
      state.lastRoute = "none";
      return;
    }
    const backends = this.readyTasks(state).flatMap((task) => {
      const port = publishedPort(task);
      const host = state.nodes.get(task.NodeID ?? "");
      return port === undefined || host === undefined ? [] : [{ id: task.ID, host, port }];
    });
    const route = { port: spec.port, host: spec.listen, protocol: spec.protocol, backends };
    const key = JSON.stringify(route);
    if (key === state.lastRoute) return;
    await this.deps.proxy.setRoute(name, route);
    state.lastRoute = key;
  }

  private async refreshNodes(state: SwarmAppState): Promise<void> {
    const unknown = state.tasks.some((t) => t.NodeID !== undefined && !state.nodes.has(t.NodeID));
    if (!unknown && state.nodes.size > 0) return;
    const nodes = await this.deps.client.nodes();
    state.nodes = new Map(
      nodes.map((node) => {
        // A node may report 0.0.0.0 (advertised on all interfaces): its manager address then.
        const addr = node.Status.Addr;
        const manager = node.ManagerStatus?.Addr?.replace(/:\d+$/, "");
        return [node.ID, addr && addr !== "0.0.0.0" ? addr : (manager ?? LOOPBACK)];
      }),
    );
  }

  private async refreshImages(state: SwarmAppState): Promise<void> {
    for (const task of state.tasks) {
      const container = task.Status.ContainerStatus?.ContainerID;
      if (!container || state.images.has(container) || task.DesiredState !== "running") continue;
      const image = await this.deps.client.containerImage(container);
      if (image !== undefined) state.images.set(container, image);
    }
  }

  private async removeApp(
    name: string,
    state: SwarmAppState,
    service: Service | undefined,
  ): Promise<void> {
    if (state.lastRoute !== undefined && state.lastRoute !== "none") {
      await this.deps.proxy.deleteRoute(name, 5_000);
    }
    if (service !== undefined) {
      await this.deps.client.remove(service.ID);
      this.emit(name, "swarm.service_removed", `removed service ${service.Spec.Name}`, {
        service: service.Spec.Name,
      });
    }
    this.apps.delete(name);
  }

  /** Removes every service of this state directory (`baton down`). */
  async removeAll(): Promise<void> {
    this.watching.abort();
    let services: Service[];
    try {
      services = await this.ourServices();
    } catch (error) {
      // No engine, or not a swarm manager: without swarm apps there is nothing of ours.
      if (this.apps.size === 0) return;
      throw error;
    }
    for (const service of services) {
      const app = service.Spec.Labels["baton.app"] ?? service.Spec.Name;
      const state = this.apps.get(app);
      if (state !== undefined) await this.removeApp(app, state, service);
      else await this.deps.client.remove(service.ID);
    }
  }

  /** Releases the event streams; services keep running. */
  close(): void {
    this.watching.abort();
  }

  /**
   * Engine events wake the app they concern at once: a service changed or removed by hand,
   * a task's container started, died or became healthy. Polls and the controller's resync
   * catch whatever a broken stream missed.
   */
  async watch(): Promise<void> {
    const signal = this.watching.signal;
    const follow = async (filter: Record<string, readonly string[]>) => {
      while (!signal.aborted) {
        try {
          for await (const event of this.deps.client.events(filter, signal)) {
            // A container names its service in a label, a service event by its name.
            const attributes = event.Actor.Attributes ?? {};
            const app = this.appOfService(attributes["baton.service"] ?? attributes.name ?? "");
            if (app !== undefined && this.apps.has(app)) this.deps.requeue(app);
          }
        } catch {
          // The engine restarted or is not there: try again shortly.
        }
        if (!signal.aborted) await new Promise((r) => setTimeout(r, 1_000).unref());
      }
    };
    await Promise.all([
      follow({ type: ["service"] }),
      follow({ type: ["container"], label: ["baton.service"] }),
    ]);
  }

  private appOfService(serviceNameOrId: string): string | undefined {
    for (const [app, state] of this.apps) {
      if (state.service?.Spec.Name === serviceNameOrId || state.service?.ID === serviceNameOrId) {
        return app;
      }
      if (serviceName(state.project, app) === serviceNameOrId) return app;
    }
    return undefined;
  }

  status(): AppStatus[] {
    return [...this.apps].flatMap(([name, state]) => {
      const spec = state.spec;
      if (spec === undefined && state.service === undefined) return [];
      const revision = spec === undefined ? "" : appRevision(spec);
      const desired = spec === undefined ? 0 : (this.deps.scaleOverride(name) ?? spec.replicas);
      const live = state.service?.Spec.Labels["baton.revision"] ?? "";
      const bad = spec !== undefined && live !== revision && this.isBad(name, revision);
      const serving = bad ? live : revision;
      const ready = this.readyCount(state, serving);
      const rollout = this.deps.rollouts.active(name) ?? this.deps.rollouts.history(name, 1)[0];
      const update = state.service?.UpdateStatus?.State;
      const appState =
        spec === undefined
          ? "deleting"
          : state.error !== undefined && state.service === undefined
            ? "failed"
            : bad
              ? "rolled-back"
              : update === "rollback_started"
                ? "rolling-back"
                : update === "paused" || update === "rollback_paused"
                  ? "failed"
                  : update === "updating" || ready < desired || live !== revision
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
          replicas: this.replicaStatuses(state),
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

  /** Tasks Swarm means to run (and those still stopping), as the replicas of status. */
  private replicaStatuses(state: SwarmAppState): ReplicaStatus[] {
    const shown = state.tasks.filter(
      (t) => t.DesiredState === "running" || ["running", "starting"].includes(t.Status.State),
    );
    return shown
      .sort((a, b) => (a.Slot ?? 0) - (b.Slot ?? 0) || a.CreatedAt.localeCompare(b.CreatedAt))
      .map((task) => {
        const container = task.Status.ContainerStatus?.ContainerID;
        const image = task.Spec.ContainerSpec?.Image ?? "";
        const digest = image.includes("@sha256:")
          ? image.slice(image.indexOf("@") + 1)
          : container === undefined
            ? undefined
            : state.images.get(container);
        const port = publishedPort(task);
        const ready = task.DesiredState === "running" && task.Status.State === "running";
        const replicaState: ReplicaStateName =
          task.DesiredState !== "running" ? "stopping" : ready ? "ready" : "starting";
        const startedAt = Date.parse(task.Status.Timestamp ?? task.CreatedAt);
        return {
          id: task.ID,
          pid: task.Status.ContainerStatus?.PID || null,
          port: port ?? null,
          state: replicaState,
          ready,
          revision: task.Spec.ContainerSpec?.Labels?.["baton.revision"] ?? "",
          restarts: 0,
          startedAt: Number.isNaN(startedAt) ? null : startedAt,
          ...(ready
            ? {}
            : {
                detail:
                  `Swarm task ${task.Status.State}: ${task.Status.Err ?? task.Status.Message ?? ""}`.trim(),
              }),
          runtime: "swarm",
          ...(container ? { container } : {}),
          ...(digest === undefined ? {} : { image: digest }),
          ...(task.NodeID === undefined ? {} : { node: task.NodeID }),
        };
      });
  }

  /** `baton rollout status` of a swarm app: the rollout and Swarm's live counts. */
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
    const running = state === undefined ? [] : this.readyTasks(state);
    return {
      app: name,
      rollout,
      progress:
        rollout === null
          ? null
          : {
              target,
              desired,
              updated: running.filter(
                (t) => t.Spec.ContainerSpec?.Labels?.["baton.revision"] === target,
              ).length,
              old: running.filter(
                (t) => t.Spec.ContainerSpec?.Labels?.["baton.revision"] !== target,
              ).length,
              ...budget,
            },
      steps: rollout === null ? [] : this.deps.rollouts.steps(rollout.id),
    };
  }

  private isBad(app: string, revision: string): boolean {
    return (this.deps.rollouts.revision(app, revision)?.badReason ?? null) !== null;
  }

  private async servicesOf(app: string): Promise<Service[]> {
    const services = await this.deps.client.services([
      `baton.state=${this.deps.stateDir}`,
      `baton.app=${app}`,
    ]);
    // The oldest first: it is the one kept if a crash ever left two.
    return services.sort((a, b) => a.Version.Index - b.Version.Index);
  }

  private ourServices(): Promise<Service[]> {
    return this.deps.client.services([`baton.state=${this.deps.stateDir}`]);
  }

  private stateOf(app: string, project: string): SwarmAppState {
    let state = this.apps.get(app);
    if (state === undefined) {
      state = {
        spec: undefined,
        project,
        service: undefined,
        tasks: [],
        nodes: new Map(),
        images: new Map(),
        lastUpdate: undefined,
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

/**
 * The node port a task's containerPort is published at: a task of any revision publishes
 * exactly one (a rollout may change containerPort; old tasks still serve).
 */
function publishedPort(task: Task): number | undefined {
  return task.Status.PortStatus?.Ports?.find((p) => (p.PublishedPort ?? 0) > 0)?.PublishedPort;
}
