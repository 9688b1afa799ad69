/**
 * What one reconcile pass decides for an app, apart from any process, proxy or store:
 * given what runs (replica views, slots) and what is wanted (desired count, budget,
 * dependencies), which slots start a replica now, which old replicas go, and when the next
 * pass is due. The apps reconciler observes, calls these, then carries the decision out —
 * Nomad's `allocReconciler.Compute()` and its results, applied separately. Kept pure so that
 * every rollout and healing edge case is a unit test with fixtures (test/unit/apps/).
 */
import { type ReplicaView, type RolloutBudget, rolloutMoves } from "./rollout-plan.js";

/** A place for one replica of the target revision, as a pass sees it. */
export interface SlotView {
  /** A replica holds it, or one is being started in it. */
  readonly occupied: boolean;
  /** Not before this time (ms): the crash-loop backoff of its last exit. */
  readonly restartAt: number;
}

export interface StartInput {
  readonly desired: number;
  readonly budget: RolloutBudget;
  readonly replicas: readonly ReplicaView[];
  readonly slots: readonly SlotView[];
  readonly now: number;
  /** The apps of `dependsOn` with no ready replica of their own target revision. */
  readonly unreadyDependencies: readonly string[];
}

export interface StartDecision {
  /** Slots (by index) to start a replica in now. */
  readonly start: readonly number[];
  /** Old replicas to take out of the pool, drain and stop now. */
  readonly stopOld: readonly string[];
  /** The dependencies a start waits for; empty when none was held. */
  readonly waitingFor: readonly string[];
  /** In how many ms a slot's backoff ends: the next pass is due then. */
  readonly wakeInMs: number | undefined;
}

/**
 * Empty slots whose backoff is over start within the room the rollout budget leaves
 * (replicas still leaving count until they have exited), unless a dependency is not ready:
 * then none starts, and the dependency's own pass wakes this app.
 */
export function decideStarts(input: StartInput): StartDecision {
  const moves = rolloutMoves(input.desired, input.budget, input.replicas);
  let occupied = input.slots.filter((s) => s.occupied).length;
  const start: number[] = [];
  let waitingFor: readonly string[] = [];
  let wakeInMs: number | undefined;
  for (const [index, slot] of input.slots.entries()) {
    if (slot.occupied) continue;
    if (slot.restartAt > input.now) {
      const wait = slot.restartAt - input.now;
      wakeInMs = wakeInMs === undefined ? wait : Math.min(wakeInMs, wait);
      continue;
    }
    if (occupied >= moves.currentAllowed) break;
    if (input.unreadyDependencies.length > 0) {
      waitingFor = input.unreadyDependencies;
      break;
    }
    occupied += 1;
    start.push(index);
  }
  return { start, stopOld: moves.stopOld, waitingFor, wakeInMs };
}

/** A replica of the revision being rolled to, as the rollout's deadline sees it. */
export interface RolloutReplica {
  readonly id: string;
  /** Holds a slot of the target revision (not a surplus or superseded one). */
  readonly slotted: boolean;
  readonly ready: boolean;
  readonly stopping: boolean;
  readonly startedAt: number;
  /** Why it is not ready, as its last readiness check said. */
  readonly detail: string;
}

export type RolloutVerdict =
  /** A new replica missed `healthyDeadline`: the rollout fails (and rolls back). */
  | { readonly kind: "fail"; readonly replica: string; readonly reason: string }
  /** Every new replica still has time: look again when the first deadline passes. */
  | { readonly kind: "wait"; readonly wakeInMs: number | undefined };

/**
 * A forward rollout's deadline: each not-ready replica of the new revision gets
 * `deadlineMs` from its start. The first one past it fails the rollout.
 */
export function checkDeadline(
  replicas: readonly RolloutReplica[],
  deadlineMs: number,
  now: number,
  formatDuration: (ms: number) => string,
): RolloutVerdict {
  let wakeInMs: number | undefined;
  for (const replica of replicas) {
    if (!replica.slotted || replica.ready || replica.stopping) continue;
    const waited = now - replica.startedAt;
    if (waited < deadlineMs) {
      const wait = deadlineMs - waited;
      wakeInMs = wakeInMs === undefined ? wait : Math.min(wakeInMs, wait);
      continue;
    }
    const why = replica.detail ? `: ${replica.detail}` : "";
    return {
      kind: "fail",
      replica: replica.id,
      reason: `${replica.id} was not ready within ${formatDuration(deadlineMs)}${why}`,
    };
  }
  return { kind: "wait", wakeInMs };
}
