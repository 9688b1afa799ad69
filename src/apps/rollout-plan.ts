/**
 * The arithmetic of a rollout, apart from any process: given what runs, how many replicas
 * of the new revision may exist and which old ones may go now — a rolling update within
 * its budgets, or a recreate (every old replica gone before a new one starts). Kept pure so
 * that every budget (surge, unavailability) is tested without starting anything.
 */
import type { ReplicaBudget, UpdatePolicy } from "../definition/index.js";

export interface RolloutBudget {
  readonly strategy: UpdatePolicy["strategy"];
  /** Replicas allowed above the desired count, stopping ones included. */
  readonly maxSurge: number;
  /** Of the desired count, how many may be not ready. */
  readonly maxUnavailable: number;
}

/**
 * Percentages as Kubernetes resolves them: surge rounds up, unavailability down. A recreate
 * is the budget that allows no extra replica and all of them unavailable.
 */
export function resolveBudget(policy: UpdatePolicy, desired: number): RolloutBudget {
  if (policy.strategy === "recreate") {
    return { strategy: "recreate", maxSurge: 0, maxUnavailable: desired };
  }
  let maxSurge = resolve(policy.maxSurge, desired, Math.ceil);
  const maxUnavailable = resolve(policy.maxUnavailable, desired, Math.floor);
  // 10% of 3 unavailable and 0 surge both round to 0: a rollout would never move.
  if (maxSurge === 0 && maxUnavailable === 0) maxSurge = 1;
  return { strategy: "rolling", maxSurge, maxUnavailable };
}

function resolve(budget: ReplicaBudget, desired: number, round: (n: number) => number): number {
  if (typeof budget === "number") return budget;
  return round((desired * Number.parseInt(budget, 10)) / 100);
}

export interface ReplicaView {
  readonly id: string;
  /** Of the revision being rolled to. */
  readonly current: boolean;
  readonly ready: boolean;
  /** Being drained or stopped: still counted against the surge until it has exited. */
  readonly stopping: boolean;
  readonly startedAt: number;
}

export interface RolloutMoves {
  /** How many replicas of the current revision may exist (starting ones included). */
  readonly currentAllowed: number;
  /** Old replicas to take out of the pool, drain and stop now. */
  readonly stopOld: readonly string[];
}

/**
 * One step of the rolling update: new replicas fill the room the surge leaves, and old
 * ones go while the ready count stays at or above `desired - maxUnavailable`. Unready old
 * replicas go first (they serve nobody), then the oldest.
 */
export function rolloutMoves(
  desired: number,
  budget: RolloutBudget,
  replicas: readonly ReplicaView[],
): RolloutMoves {
  if (budget.strategy === "recreate") return recreateMoves(desired, replicas);
  const live = replicas.filter((r) => !r.stopping);
  const current = live.filter((r) => r.current);
  const others = replicas.length - current.length;
  const currentAllowed = Math.max(0, Math.min(desired, desired + budget.maxSurge - others));

  const old = live
    .filter((r) => !r.current)
    .sort((a, b) => Number(a.ready) - Number(b.ready) || a.startedAt - b.startedAt);
  const minAvailable = desired - budget.maxUnavailable;
  let available = live.filter((r) => r.ready).length;
  const stopOld: string[] = [];
  for (const replica of old) {
    if (!replica.ready) {
      stopOld.push(replica.id);
      continue;
    }
    // A current replica adds capacity only once ready: an old one goes when the ready
    // ones left still meet the floor.
    if (available - 1 < minAvailable) break;
    stopOld.push(replica.id);
    available -= 1;
  }
  return { currentAllowed, stopOld };
}

/**
 * One step of a recreate: every replica of another revision goes at once, and no new one
 * starts until the last of them has exited — a lock, a data folder or a port it held is
 * free by then. Leaving ones count until their exit is seen, as for the surge.
 */
function recreateMoves(desired: number, replicas: readonly ReplicaView[]): RolloutMoves {
  const others = replicas.filter((r) => !r.current);
  return {
    currentAllowed: others.length === 0 ? desired : 0,
    stopOld: others.filter((r) => !r.stopping).map((r) => r.id),
  };
}
