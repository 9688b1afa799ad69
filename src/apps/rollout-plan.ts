/**
 * The arithmetic of a rolling update, apart from any process: given what runs, how many
 * replicas of the new revision may exist and which old ones may go now. Kept pure so that
 * every budget (surge, unavailability) is tested without starting anything.
 */
import type { ReplicaBudget, UpdatePolicy } from "../spec/index.js";

export interface RolloutBudget {
  /** Replicas allowed above the desired count, stopping ones included. */
  readonly maxSurge: number;
  /** Of the desired count, how many may be not ready. */
  readonly maxUnavailable: number;
}

/** Percentages as Kubernetes resolves them: surge rounds up, unavailability down. */
export function resolveBudget(policy: UpdatePolicy, desired: number): RolloutBudget {
  let maxSurge = resolve(policy.maxSurge, desired, Math.ceil);
  const maxUnavailable = resolve(policy.maxUnavailable, desired, Math.floor);
  // 10% of 3 unavailable and 0 surge both round to 0: a rollout would never move.
  if (maxSurge === 0 && maxUnavailable === 0) maxSurge = 1;
  return { maxSurge, maxUnavailable };
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
