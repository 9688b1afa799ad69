/**
 * Rollouts as the store keeps them; their shapes on the wire (`baton history`, `baton
 * rollout status`, `baton rollback`) are the API's.
 */

import type { RolloutState } from "../api/history.js";

export type {
  AppHistory,
  RolloutRecord,
  RolloutState,
  RolloutStatus,
  RolloutStep,
  RolloutTrigger,
} from "../api/history.js";
export { FINISHED_ROLLOUT_STATES } from "../api/history.js";

/** A step to journal: what happened, to which replica if any, and the detail. */
export interface NewRolloutStep {
  readonly action: string;
  readonly replica?: string;
  readonly detail: string;
}

/** A move of a rollout to another state, with the step that journals it. */
export interface RolloutChange {
  readonly state: RolloutState;
  readonly reason?: string;
  readonly lastOutput?: readonly string[];
  readonly oldRunning?: number;
  /** Stamps the rollout's end. */
  readonly finished?: boolean;
  readonly step?: NewRolloutStep;
}
