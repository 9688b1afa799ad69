import type { RestartPolicy } from "../definition/model.js";

/**
 * Restart pacing of one replica slot. The first exit is replaced at once (a single crash
 * should cost no more than a process start); each further exit of a replica that ran less
 * than `resetAfter` doubles the wait, from `backoff` up to `maxBackoff`.
 */
export class SlotBackoff {
  /** Consecutive exits of replicas that did not run `resetAfter`. */
  private failures = 0;

  constructor(private policy: RestartPolicy) {}

  setPolicy(policy: RestartPolicy): void {
    this.policy = policy;
  }

  /** Records an exit after `uptimeMs` of running; returns how long to wait before restarting. */
  onExit(uptimeMs: number): number {
    if (uptimeMs >= this.policy.resetAfterMs) this.failures = 0;
    this.failures += 1;
    return this.delayFor(this.failures);
  }

  /** A replica that has run `resetAfter` without exiting wipes the slate. */
  onStable(): void {
    this.failures = 0;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  private delayFor(failures: number): number {
    if (failures <= 1) return 0;
    return Math.min(this.policy.backoffMs * 2 ** (failures - 2), this.policy.maxBackoffMs);
  }
}
