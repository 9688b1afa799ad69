/**
 * Rollouts as the API answers them (`baton history`, `baton rollout status`, `baton
 * rollback`, `baton rollout retry`): scripts rely on these shapes.
 */

/**
 * progressing: new replicas replace old ones. rolling-back: the new revision failed, the
 * previous one comes back. rolled-out: done, the new revision serves. rolled-back: done,
 * the previous revision serves again and the new one is marked bad. failed: nothing to go
 * back to (a first deploy) or the way back failed too. superseded: another rollout of the
 * app started before this one ended.
 */
export type RolloutState =
  | "progressing"
  | "rolling-back"
  | "rolled-out"
  | "rolled-back"
  | "failed"
  | "superseded";

/** apply: a definition changed the app's revision. rollback: `baton rollback`. */
export type RolloutTrigger = "apply" | "rollback";

export interface RolloutRecord {
  readonly id: number;
  readonly app: string;
  /** The revision that served before; null for the app's first deploy. */
  readonly fromRevision: string | null;
  readonly toRevision: string;
  readonly trigger: RolloutTrigger;
  readonly state: RolloutState;
  /** Why it rolled back or failed, for humans. */
  readonly reason: string | null;
  /** The failing replica's last output lines, when a replica's failure is the reason. */
  readonly lastOutput: readonly string[];
  /**
   * Replicas of the previous revision still running when it failed (a rolling update's
   * surge): a lock or a port they held may be why. null: it did not fail, or not recorded.
   */
  readonly oldRunning: number | null;
  readonly startedAt: number;
  readonly finishedAt: number | null;
  /** Who applied the definition or asked for the rollback. */
  readonly by: string;
}

/** One journaled step of a rollout, in order. */
export interface RolloutStep {
  readonly rollout: number;
  readonly seq: number;
  readonly at: number;
  /**
   * started, ready, pooled, unpooled, drained, stopped (a replica's way in or out),
   * failed (why the rollout fails), rollback (the way back begins), done.
   */
  readonly action: string;
  readonly replica: string | null;
  readonly detail: string;
}

/** `GET /api/v1/apps/:app/rollout` and `baton rollout status APP --json`. */
export interface RolloutStatus {
  readonly app: string;
  /** The current rollout, else the app's last one; null if the app never rolled out. */
  readonly rollout: RolloutRecord | null;
  /** Live counts for the revision being rolled to (toRevision, or fromRevision while rolling back). */
  readonly progress: {
    readonly target: string;
    readonly desired: number;
    /** Replicas of the target revision that are ready and in the proxy's pool. */
    readonly updated: number;
    /** Replicas of any other revision still running (draining ones included). */
    readonly old: number;
    /** `rolling`, or `recreate`: then maxSurge is 0 and maxUnavailable the desired count. */
    readonly strategy: "rolling" | "recreate";
    readonly maxSurge: number;
    readonly maxUnavailable: number;
  } | null;
  /** The rollout's journal, oldest first (the last 50 steps). */
  readonly steps: readonly RolloutStep[];
}

/** `GET /api/v1/apps/:app/history` and `baton history APP --json`: newest first. */
export interface AppHistory {
  readonly app: string;
  /** The revision serving now (the last one rolled out or rolled back to). */
  readonly current: string | null;
  readonly rollouts: readonly RolloutRecord[];
}

/** `POST /api/v1/apps/:app/rollback`: `to` a revision or a prefix of 4 to 12 hex characters. */
export interface RollbackRequest {
  readonly to?: string;
  readonly by?: string;
}

/** `POST /api/v1/apps/:app/rollout/retry`. */
export interface RetryRequest {
  readonly by?: string;
}

/** The answer of a rollback or a retry: the rollout it started. */
export interface RolloutAnswer {
  readonly rollout: RolloutRecord;
}

/** The states a rollout ends in: following one stops there. */
export const FINISHED_ROLLOUT_STATES: ReadonlySet<RolloutState> = new Set([
  "rolled-out",
  "rolled-back",
  "failed",
  "superseded",
]);
