/**
 * The state the apps reconciler keeps of each app between passes: its replicas, the slots
 * they fill, the target and rollout, and what happened since the last pass (the inbox).
 */
import type { AppSpec } from "../definition/index.js";
import type { DriverEvent, Handle } from "../runtime/driver.js";
import type { SlotBackoff } from "./backoff.js";
import type { ReplicaHealth } from "./replica-health.js";
import type { RolloutRecord } from "./rollout-types.js";
import type { ReplicaStateName } from "./status.js";

export interface Replica {
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
export type Observation =
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

export interface Slot {
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

export interface AppState {
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

/** A replica just started: not ready until its readiness check says so. */
export function newReplica(
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

/** Exactly the desired count, all ready, all of the target revision, nothing else. */
export function isConverged(state: AppState): boolean {
  const replicas = [...state.replicas.values()];
  return (
    replicas.length === state.desired &&
    replicas.every((r) => r.ready && r.revision === state.revision && r.slot !== undefined) &&
    state.slots.every((s) => s.replicaId !== undefined)
  );
}

/** The state of an app the reconciler has not seen before: nothing runs, nothing is wanted. */
export function newAppState(stable: string | undefined): AppState {
  return {
    spec: undefined,
    definitionRevision: "",
    revision: "",
    targetSpec: undefined,
    specs: new Map(),
    stable,
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
}
