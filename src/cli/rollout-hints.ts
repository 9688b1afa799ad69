/**
 * What to suggest when a rollout failed: pure functions of what the API reports about it, so
 * every wording is tested without a controller. `apply --wait` (commands/wait.ts) and every
 * command that reports a rolled-back rollout (`rollout status`, `rollback --wait`, `deploy
 * --wait`, through rollout-follow.ts) ask here.
 */

/** What a rollout's record or an app's status says about its failure. */
export interface FailureFacts {
  readonly app: string;
  /** Replicas of the previous revision running when it failed; null if unknown. */
  readonly oldRunning: number | null;
  readonly lastOutput: readonly string[];
}

/**
 * Output that says something is held by another process: a lock (PostgreSQL's
 * postmaster.pid, SQLite's "database is locked", a lock file), an address or a port in use.
 */
const HELD = [
  /\block(?:s|ed|file|ing)?\b/i,
  /address already in use/i,
  /\bEADDRINUSE\b/,
  /\bport\b.*\b(?:in use|taken|already allocated)\b/i,
];

/**
 * `strategy: recreate`, when the new replica failed beside a replica of the old revision on
 * something that one holds: the rolling update itself was the cause, not the revision.
 */
export function recreateHint(failure: FailureFacts): string | undefined {
  if (failure.oldRunning === null || failure.oldRunning === 0) return undefined;
  if (!failure.lastOutput.some((line) => HELD.some((held) => held.test(line)))) return undefined;
  return (
    `the new replica failed beside a running one of the old revision, on something that one holds ` +
    `(a lock, an address in use): add \`update: { strategy: recreate }\` to ${failure.app} to stop ` +
    "the old replicas before new ones start, and apply again"
  );
}

/** The hint for a rolled-back rollout: the recreate strategy when it fits, else where to look. */
export function rolledBackHint(failure: FailureFacts): string {
  const app = failure.app;
  return (
    recreateHint(failure) ??
    `see \`baton logs ${app} --all\` and \`baton history ${app}\`; fix the definition (a new revision or another update policy is tried again) and apply it, or \`baton rollout retry ${app}\` once what it lacked is there`
  );
}
