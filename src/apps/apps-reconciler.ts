import { randomBytes } from "node:crypto";
import type { Reconciler } from "../controller/reconciler.js";
import type { Change, DesiredResource, ObservedResource } from "../engine/index.js";
import type { ProcessReplicaSpec } from "../runtime/process/index.js";
import type { LogLine, LogOptions, ReplicaHandle } from "../runtime/runtime.js";
import type { AppSpec, Definition, Probe } from "../spec/index.js";
import { appRevision } from "../spec/index.js";
import type { NewEvent, ReplicaRecord } from "../store/index.js";
import { SlotBackoff } from "./backoff.js";
import { ReplicaHealth } from "./replica-health.js";
import { APP_KIND, appSettings, desiredApps, observedApps } from "./resources.js";
import type { AppStatus, ReplicaStateName, ReplicaStatus } from "./status.js";

const LOOPBACK = "127.0.0.1";
/** Drain waits at most this long even when stopGrace is longer: a stop must not hang. */
const MAX_DRAIN_MS = 30_000;

/** What the apps reconciler needs of the world, each behind a narrow port. */
export interface AppsDeps {
  readonly runtime: {
    start(spec: ProcessReplicaSpec): Promise<ReplicaHandle>;
    stop(handle: ReplicaHandle, graceMs: number): Promise<void>;
    logs(handle: Pick<ReplicaHandle, "id" | "app">, options: LogOptions): AsyncIterable<LogLine>;
  };
  readonly proxy: ProxyPort;
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
  readonly handle: ReplicaHandle;
  readonly revision: string;
  /** Slot index for replicas of the desired revision; undefined once superseded or surplus. */
  slot: number | undefined;
  state: ReplicaStateName;
  ready: boolean;
  detail: string;
  restarts: number;
  health: ReplicaHealth | undefined;
  /** Set when Baton stops it: `restart` counts as a failure of its slot, `remove` does not. */
  stopIntent: "restart" | "remove" | undefined;
}

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
  spec: AppSpec | undefined;
  revision: string;
  desired: number;
  readonly slots: Slot[];
  readonly replicas: Map<string, Replica>;
  /** Whether the last pass found the app converged, to announce each arrival once. */
  converged: boolean;
  /** Last route sent to the proxy, to send only changes. */
  lastRoute: string | undefined;
  proxyError: string | undefined;
  /** Replicas adopted, health not yet re-established: no proxy update may shrink the pool. */
  adopting: boolean;
  /** The applied definition no longer has this app: stop its replicas, drop its route. */
  deleting: boolean;
  /** Proxy updates of one app run one after the other, each sending the latest pool. */
  proxyChain: Promise<void>;
}

/**
 * Keeps each app's replicas equal to its definition: the desired count of the desired
 * revision, ready ones in the proxy's pool, exited ones replaced (with backoff), old and
 * surplus ones drained and stopped once enough new ones are ready.
 */
export class AppsReconciler implements Reconciler {
  readonly kind = APP_KIND;
  private readonly apps = new Map<string, AppState>();
  private readonly now: () => number;

  constructor(private readonly deps: AppsDeps) {
    this.now = deps.now ?? Date.now;
  }

  desired(definition: Definition): DesiredResource[] {
    return desiredApps(definition, this.deps.scaleOverride);
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
    return observedApps(replicas, (app) => {
      const spec = this.apps.get(app)?.spec;
      return spec === undefined ? undefined : appSettings(spec);
    });
  }

  names(): string[] {
    return [...this.apps.keys()];
  }

  /** Hands over replicas found running at controller start, before the first reconcile. */
  adopt(handles: readonly ReplicaHandle[], inProxyPool: ReadonlySet<string>): void {
    const known = new Map(this.deps.records.replicas().map((r) => [r.id, r]));
    for (const handle of handles) {
      const state = this.stateOf(handle.app);
      const ready = inProxyPool.has(handle.id);
      const record = known.get(handle.id);
      state.replicas.set(handle.id, {
        handle,
        revision: handle.revision,
        slot: undefined,
        state: ready ? "ready" : "starting",
        ready,
        detail: "",
        restarts: record?.restarts ?? 0,
        health: undefined,
        stopIntent: undefined,
      });
      state.adopting = true;
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
    this.setSpec(state, spec);
    state.deleting = spec === undefined;
    // Through the work queue, so that no two passes over one app ever run at once.
    this.deps.requeue(name);
  }

  /** Re-reads the desired count (after `baton scale`) and converges. */
  rescale(name: string): void {
    const state = this.apps.get(name);
    if (state?.spec === undefined) return;
    this.setSpec(state, state.spec);
    this.deps.requeue(name);
  }

  async reconcile(name: string): Promise<void> {
    const state = this.apps.get(name);
    if (state === undefined) return;
    const spec = state.spec;
    if (spec === undefined) {
      // Only a definition that no longer has the app removes it; an app adopted before any
      // definition was applied is left alone.
      if (state.deleting) await this.removeApp(name, state);
      return;
    }
    this.resizeSlots(name, state);
    for (const replica of state.replicas.values()) {
      if (replica.health === undefined && replica.state !== "stopping")
        this.watchHealth(name, replica, spec);
    }
    const now = this.now();
    for (const [index, slot] of state.slots.entries()) {
      if (slot.replicaId !== undefined || slot.starting) continue;
      if (slot.restartAt > now) {
        this.deps.requeue(name, slot.restartAt - now);
        continue;
      }
      slot.starting = true;
      void this.startReplica(name, state, spec, index, slot);
    }
    this.stopSuperseded(name, state);
    await this.syncProxy(name, state);
    this.announceConvergence(name, state, spec);
  }

  /** Exactly the desired count, all ready, all of the desired revision, nothing else. */
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

  status(): AppStatus[] {
    const result: AppStatus[] = [];
    const now = this.now();
    for (const [name, state] of this.apps) {
      const replicas: ReplicaStatus[] = [];
      for (const replica of state.replicas.values()) {
        replicas.push({
          id: replica.handle.id,
          pid: replica.handle.pid,
          port: replica.handle.port,
          state: replica.state,
          ready: replica.ready,
          revision: replica.revision,
          restarts: replica.restarts,
          startedAt: replica.handle.startedAt,
          ...(replica.detail ? { detail: replica.detail } : {}),
        });
      }
      let crashLooping = false;
      for (const slot of state.slots) {
        // An empty slot that never had a replica is about to get one: nothing to show.
        if (slot.replicaId !== undefined || slot.starting || slot.lastReplicaId === undefined)
          continue;
        crashLooping = crashLooping || slot.backoff.consecutiveFailures >= 2;
        replicas.push({
          id: slot.lastReplicaId ?? `${name}-pending`,
          pid: null,
          port: null,
          state: "crash-loop",
          ready: false,
          revision: state.revision,
          restarts: slot.restarts,
          startedAt: null,
          detail: `${slot.lastExit}; restarting in ${Math.max(0, slot.restartAt - now)}ms`,
        });
      }
      const ready = [...state.replicas.values()].filter(
        (r) => r.ready && r.revision === state.revision && r.state !== "stopping",
      ).length;
      const appState =
        state.spec === undefined
          ? "deleting"
          : crashLooping
            ? "crash-loop"
            : this.isConverged(state)
              ? "converged"
              : "progressing";
      result.push({
        name,
        revision: state.revision,
        desired: state.desired,
        ready,
        port: state.spec?.port ?? null,
        protocol: state.spec?.protocol ?? "http",
        state: appState,
        replicas,
        ...(state.proxyError ? { proxyError: state.proxyError } : {}),
      });
    }
    return result;
  }

  /** Called by the controller for every runtime exit event. */
  async onReplicaExited(
    app: string,
    id: string,
    code: number | null,
    signal: string | null,
  ): Promise<void> {
    const state = this.apps.get(app);
    const replica = state?.replicas.get(id);
    if (state === undefined || replica === undefined) return;
    replica.health?.stop();
    state.replicas.delete(id);
    this.deps.records.removeReplica(id);
    const how =
      code !== null
        ? `exited with code ${code}`
        : signal !== null
          ? `killed by ${signal}`
          : "exited";
    const slot = replica.slot === undefined ? undefined : state.slots[replica.slot];
    const expected = replica.stopIntent === "remove";
    if (slot === undefined || slot.replicaId !== id || expected) {
      this.deps.emit({
        type: "replica.stopped",
        app,
        replica: id,
        message: `${id} stopped (${how})`,
        data: { code, signal },
      });
      this.deps.requeue(app);
      return;
    }
    const uptime = this.now() - replica.handle.startedAt;
    const wait = slot.backoff.onExit(uptime);
    slot.replicaId = undefined;
    slot.restarts += 1;
    slot.restartAt = this.now() + wait;
    slot.lastReplicaId = id;
    slot.lastExit = how;
    // The replacement is on its way before the exit is even described.
    this.deps.requeue(app);
    const output = await this.lastOutput(app, id);
    const last = output.at(-1);
    this.deps.emit({
      type: "replica.exited",
      app,
      replica: id,
      message: `${id} ${how}; ${wait === 0 ? "replacing it now" : `crash-loop: replacing it in ${wait}ms`}${last ? ` — last output: ${last.slice(0, 200)}` : ""}`,
      data: {
        code,
        signal,
        uptimeMs: uptime,
        restartInMs: wait,
        restarts: slot.restarts,
        lastOutput: output,
      },
    });
  }

  /** The last lines a replica wrote: why it died, most of the time. */
  private async lastOutput(app: string, id: string): Promise<string[]> {
    const lines: string[] = [];
    try {
      for await (const line of this.deps.runtime.logs({ id, app }, { tail: 5 }))
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

  /** Stops every replica of every app (for `baton down`). */
  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.apps.keys()].map(async (name) => {
        const state = this.stateOf(name);
        this.setSpec(state, undefined);
        state.deleting = true;
        await this.removeApp(name, state);
      }),
    );
  }

  private stateOf(name: string): AppState {
    let state = this.apps.get(name);
    if (state === undefined) {
      state = {
        spec: undefined,
        revision: "",
        desired: 0,
        slots: [],
        replicas: new Map(),
        converged: false,
        lastRoute: undefined,
        proxyError: undefined,
        adopting: false,
        deleting: false,
        proxyChain: Promise.resolve(),
      };
      this.apps.set(name, state);
    }
    return state;
  }

  private setSpec(state: AppState, spec: AppSpec | undefined): void {
    state.spec = spec;
    if (spec === undefined) {
      state.desired = 0;
      return;
    }
    const revision = appRevision(spec);
    if (revision !== state.revision) {
      // Replicas of another revision leave their slots: they are superseded, stopped as
      // new ones become ready. Slots start over with a clean backoff.
      for (const replica of state.replicas.values()) {
        if (replica.revision !== revision) replica.slot = undefined;
      }
      state.slots.length = 0;
      state.revision = revision;
    }
    state.desired = this.deps.scaleOverride(spec.name) ?? spec.replicas;
    for (const slot of state.slots) slot.backoff.setPolicy(spec.restart);
  }

  private resizeSlots(name: string, state: AppState): void {
    const spec = state.spec;
    if (spec === undefined) return;
    while (state.slots.length < state.desired) {
      state.slots.push({
        backoff: new SlotBackoff(spec.restart),
        replicaId: undefined,
        starting: false,
        restartAt: 0,
        restarts: 0,
        lastReplicaId: undefined,
        lastExit: "",
      });
    }
    // Unslotted live replicas of the desired revision (adopted, or surplus) fill empty slots.
    for (const replica of state.replicas.values()) {
      if (replica.slot !== undefined || replica.revision !== state.revision) continue;
      if (replica.state === "stopping") continue;
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

  /** Superseded (old revision) and surplus replicas go once enough current ones are ready. */
  private stopSuperseded(name: string, state: AppState): void {
    const unslotted = [...state.replicas.values()].filter(
      (r) => r.slot === undefined && r.state !== "stopping",
    );
    if (unslotted.length === 0) return;
    const readyCurrent = [...state.replicas.values()].filter(
      (r) => r.slot !== undefined && r.ready && r.state !== "stopping",
    ).length;
    // Same revision surplus (scale down) never waits; old revisions wait for new ones.
    const keep = Math.max(0, state.desired - readyCurrent);
    const old = unslotted
      .filter((r) => r.revision !== state.revision)
      .sort((a, b) => Number(b.ready) - Number(a.ready) || b.handle.startedAt - a.handle.startedAt);
    const toStop = [...unslotted.filter((r) => r.revision === state.revision), ...old.slice(keep)];
    for (const replica of toStop) void this.stopReplica(name, state, replica, "remove");
  }

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
      const env = {
        ...this.deps.baseEnv,
        ...spec.env,
        PORT: String(port),
        BATON_APP: name,
        BATON_REPLICA: id,
        BATON_REVISION: revision,
      };
      const handle = await this.deps.runtime.start({
        id,
        app: name,
        revision,
        command: spec.command,
        cwd: spec.cwd,
        env,
        port,
        logs: spec.logs,
      });
      slot.starting = false;
      if (
        state.spec === undefined ||
        state.revision !== revision ||
        state.slots[slotIndex] !== slot
      ) {
        // The definition changed while we started: this replica belongs to no slot.
        state.replicas.set(id, this.newReplica(handle, revision, undefined, slot.restarts));
        this.deps.requeue(name);
        return;
      }
      slot.replicaId = id;
      const replica = this.newReplica(handle, revision, slotIndex, slot.restarts);
      state.replicas.set(id, replica);
      this.deps.records.putReplica({
        id,
        app: name,
        revision,
        runtime: "process",
        pid: handle.pid,
        startTicks: handle.startTicks,
        port,
        startedAt: handle.startedAt,
        state: "starting",
        restarts: slot.restarts,
      });
      this.deps.emit({
        type: "replica.started",
        app: name,
        replica: id,
        message: `${id} started (pid ${handle.pid}, port ${port})`,
        data: { pid: handle.pid, port, revision },
      });
      this.watchHealth(name, replica, spec);
      this.scheduleStableReset(state, slot, id, spec);
    } catch (error) {
      slot.starting = false;
      const wait = slot.backoff.onExit(0);
      slot.restarts += 1;
      slot.restartAt = this.now() + wait;
      slot.lastExit = `failed to start: ${(error as Error).message}`;
      this.deps.emit({
        type: "replica.start_failed",
        app: name,
        message: `${name}: ${slot.lastExit}; retrying in ${wait}ms`,
        data: { restartInMs: wait },
      });
      this.deps.requeue(name, wait);
    }
  }

  private newReplica(
    handle: ReplicaHandle,
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
      stopIntent: undefined,
    };
  }

  private scheduleStableReset(state: AppState, slot: Slot, id: string, spec: AppSpec): void {
    const timer = setTimeout(() => {
      if (slot.replicaId === id && state.replicas.has(id)) slot.backoff.onStable();
    }, spec.restart.resetAfterMs);
    timer.unref();
  }

  private watchHealth(name: string, replica: Replica, spec: AppSpec): void {
    const readiness = spec.health.readiness ?? defaultReadiness(spec);
    const health = new ReplicaHealth(
      readiness,
      spec.health.liveness,
      {
        host: LOOPBACK,
        port: replica.handle.port,
        cwd: spec.cwd,
        env: { ...this.deps.baseEnv, ...spec.env, PORT: String(replica.handle.port) },
      },
      {
        onReadiness: (ready, detail) => {
          if (replica.state === "stopping") return;
          const changed = replica.ready !== ready;
          replica.ready = ready;
          replica.detail = detail;
          replica.state = ready ? "ready" : replica.state === "starting" ? "starting" : "unready";
          if (!changed) return;
          this.deps.records.updateReplica(replica.handle.id, {
            state: ready ? "ready" : "running",
          });
          this.deps.emit({
            type: ready ? "replica.ready" : "replica.unready",
            app: name,
            replica: replica.handle.id,
            message: ready
              ? `${replica.handle.id} is ready`
              : `${replica.handle.id} is not ready: ${detail}`,
          });
          const state = this.apps.get(name);
          if (state !== undefined) {
            state.adopting = false;
            this.deps.requeue(name);
          }
        },
        onLivenessFailed: (detail) => {
          const state = this.apps.get(name);
          if (state === undefined || replica.state === "stopping") return;
          this.deps.emit({
            type: "replica.unhealthy",
            app: name,
            replica: replica.handle.id,
            message: `${replica.handle.id} failed its liveness check (${detail}); restarting it`,
          });
          void this.stopReplica(name, state, replica, "restart");
        },
      },
      replica.ready,
    );
    replica.health = health;
    health.start();
  }

  private async stopReplica(
    name: string,
    state: AppState,
    replica: Replica,
    intent: "restart" | "remove",
  ): Promise<void> {
    if (replica.state === "stopping") return;
    const wasInPool = replica.ready;
    replica.state = "stopping";
    replica.ready = false;
    replica.stopIntent = intent;
    replica.health?.stop();
    this.deps.records.updateReplica(replica.handle.id, { state: "stopping" });
    const spec = state.spec;
    const grace = spec?.stopGraceMs ?? 10_000;
    if (wasInPool && state.spec?.port !== undefined) {
      await this.syncProxy(name, state);
      try {
        await this.deps.proxy.drain(name, replica.handle.id, Math.min(grace, MAX_DRAIN_MS));
      } catch {
        // A proxy that cannot answer has no requests of ours to drain.
      }
    }
    await this.deps.runtime.stop(replica.handle, grace);
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
      .map((r) => ({ id: r.handle.id, host: LOOPBACK, port: r.handle.port }))
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
