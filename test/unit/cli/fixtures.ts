import type {
  AppHistory,
  RolloutRecord,
  RolloutStatus,
  RolloutStep,
} from "../../../src/apps/rollout-types.js";

/** 2024-05-01 14:03:22.125 in the local time zone, so the expected texts hold in any zone. */
export const T0 = new Date(2024, 4, 1, 14, 3, 22, 125).getTime();

export const REV_A = "1a2b3c4d5e6f";
export const REV_B = "6f5e4d3c2b1a";
export const REV_C = "abcdef012345";

export function rollout(fields: Partial<RolloutRecord> & Pick<RolloutRecord, "id">): RolloutRecord {
  return {
    app: "web",
    fromRevision: REV_A,
    toRevision: REV_B,
    trigger: "apply",
    state: "rolled-out",
    reason: null,
    lastOutput: [],
    oldRunning: null,
    startedAt: T0,
    finishedAt: T0 + 8_200,
    by: "ann@laptop",
    ...fields,
  };
}

export function step(
  rolloutId: number,
  seq: number,
  action: string,
  replica: string | null,
  detail = "",
): RolloutStep {
  return { rollout: rolloutId, seq, at: T0 + seq * 1000, action, replica, detail };
}

export function history(current: string | null, rollouts: RolloutRecord[]): AppHistory {
  return { app: "web", current, rollouts };
}

export function status(
  record: RolloutRecord | null,
  steps: RolloutStep[] = [],
  counts: { updated: number; old: number } | null = { updated: 2, old: 2 },
): RolloutStatus {
  return {
    app: "web",
    rollout: record,
    progress:
      counts === null || record === null
        ? null
        : {
            target:
              record.state === "rolling-back" ? (record.fromRevision ?? "") : record.toRevision,
            desired: 4,
            updated: counts.updated,
            old: counts.old,
            strategy: "rolling",
            maxSurge: 1,
            maxUnavailable: 0,
          },
    steps,
  };
}
