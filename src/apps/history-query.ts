import { BatonError } from "../api/errors.js";
/**
 * `baton history APP` and `GET /api/v1/apps/APP/history`: an app's rollouts, newest first,
 * read from the store by one function whether a controller answers or the CLI reads the state
 * itself — so the same app gets the same answer, and the same mistake the same error.
 */
import type { RolloutStore } from "../store/index.js";
import type { AppHistory } from "./rollout-types.js";

/** An app with no rollout recorded that the definition does not have either. */
export class HistoryError extends BatonError {
  constructor(message: string, hint: string) {
    super("history.unknown_app", message, { hint });
    this.name = "HistoryError";
  }
}

export interface HistoryContext {
  /**
   * Whether the applied definition has the app (a controller knows; the CLI alone does not):
   * such an app has a history, empty before its first rollout.
   */
  readonly defined?: boolean;
  /** What runs now when no rollout has finished yet (a controller's status knows). */
  readonly running?: string;
}

export function appHistory(
  rollouts: Pick<RolloutStore, "history" | "servingRevision">,
  app: string,
  context: HistoryContext = {},
): AppHistory {
  const recorded = rollouts.history(app);
  if (recorded.length === 0 && context.defined !== true) {
    throw new HistoryError(
      `no app named ${JSON.stringify(app)} has a rollout recorded`,
      "check the app's name with `baton status` (or the definition)",
    );
  }
  return {
    app,
    current: rollouts.servingRevision(app) ?? context.running ?? null,
    rollouts: recorded,
  };
}
