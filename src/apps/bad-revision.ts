/**
 * When a revision marked bad is rolled out again, the same for every runtime. A rollout that
 * fails marks its revision bad, so applying the same definition again does not repeat the
 * failure. The mark is lifted when the definition gives the app another revision, when the
 * app's update policy changes (it is not part of the revision: scaling or retuning a rollout
 * never restarts a replica, so the revision alone cannot tell that the user fixed how it
 * rolls out), and by hand with `baton rollout retry`. Health checks and their timings are
 * part of the revision: changing them makes a new one, which was never marked.
 */
import { BatonError } from "../api/errors.js";
import type { UpdatePolicy } from "../definition/index.js";
import type { RolloutStorePort } from "./rollout-journal.js";

/** A retry the user asked for cannot be done. */
export class RetryError extends BatonError {
  constructor(code: string, message: string, hint?: string) {
    super(code, message, { hint });
    this.name = "RetryError";
  }
}

/** The policy as the store keeps it beside a bad mark: keys in a fixed order, to compare. */
export function policyKey(policy: UpdatePolicy): string {
  return JSON.stringify({
    strategy: policy.strategy,
    maxSurge: policy.maxSurge,
    maxUnavailable: policy.maxUnavailable,
    healthyDeadlineMs: policy.healthyDeadlineMs,
    drainTimeoutMs: policy.drainTimeoutMs,
  });
}

type BadMark = { readonly badReason: string | null; readonly badPolicy: string | null };

/** Marked bad under another update policy than `policy`: the user's fix, to be tried. */
export function failedUnderOtherPolicy(mark: BadMark | undefined, policy: UpdatePolicy): boolean {
  // A mark from before policies were recorded is kept: `baton rollout retry` lifts it.
  if (mark?.badReason == null || mark.badPolicy === null) return false;
  return mark.badPolicy !== policyKey(policy);
}

/** What `failedUnderOtherPolicy` compares, in words, for the event that says why it retries. */
export function policyChange(mark: BadMark, policy: UpdatePolicy): string {
  const before = JSON.parse(mark.badPolicy ?? "{}") as Record<string, unknown>;
  const after = JSON.parse(policyKey(policy)) as Record<string, unknown>;
  return Object.keys(after)
    .filter((key) => before[key] !== after[key])
    .map((key) => `${key} ${String(before[key] ?? "unset")} → ${String(after[key])}`)
    .join(", ");
}

/**
 * `baton rollout retry`: the definition's revision must be the one held back by a bad mark,
 * not one pinned by `baton rollback`. Throws a RetryError saying why not.
 */
export function assertRetryable(
  store: Pick<RolloutStorePort, "pin" | "revision">,
  app: string,
  revision: string,
): void {
  const pin = store.pin(app);
  if (pin !== undefined && pin.baseRevision === revision) {
    throw new RetryError(
      "rollout.pinned",
      `${app} runs revision ${pin.revision} because \`baton rollback\` pinned it; its definition's revision ${revision} is not held back by a failure`,
      "the pin holds until the definition changes the app: change it and apply, to roll forward",
    );
  }
  if ((store.revision(app, revision)?.badReason ?? null) === null) {
    throw new RetryError(
      "rollout.not_blocked",
      `${app} runs its definition's revision ${revision}: no failed rollout holds it back, nothing to retry`,
      `a revision is held back once its rollout is rolled back; \`baton history ${app}\` shows the rollouts`,
    );
  }
}
