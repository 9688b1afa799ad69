import type { NewEvent } from "../store/index.js";
import type {
  NewRolloutStep,
  RolloutChange,
  RolloutRecord,
  RolloutState,
  RolloutStep,
  RolloutTrigger,
} from "./rollout-types.js";

/** The part of the store a rollout writes to (RolloutStore). */
export interface RolloutStorePort {
  atomically<T>(fn: () => T): T;
  saveRevision(app: string, revision: string, spec: unknown): void;
  revision(
    app: string,
    revision: string,
  ): { spec: string; badReason: string | null; badPolicy: string | null } | undefined;
  revisionsStartingWith(app: string, prefix: string): { revision: string }[];
  markBad(app: string, revision: string, reason: string, policy: string | null): void;
  clearBadExcept(app: string, keep: string): void;
  clearBad(app: string, revision: string): void;
  start(r: {
    app: string;
    from: string | null;
    to: string;
    trigger: RolloutTrigger;
    by: string;
    why?: string;
  }): RolloutRecord;
  update(id: number, change: RolloutChange): RolloutRecord | undefined;
  active(app: string): RolloutRecord | undefined;
  history(app: string, limit?: number): RolloutRecord[];
  servingRevision(app: string): string | undefined;
  appendStep(rollout: number, step: NewRolloutStep): void;
  steps(rollout: number, limit?: number): RolloutStep[];
  pin(app: string): { revision: string; baseRevision: string } | undefined;
  setPin(app: string, revision: string, baseRevision: string): void;
  clearPin(app: string): void;
}

/**
 * Writes a rollout's life to the store and the event log together: every transition is
 * one store transaction (state and journal step) followed by its event, so a controller
 * killed between two steps leaves a journal that says exactly how far it got.
 */
export class RolloutJournal {
  constructor(
    readonly store: RolloutStorePort,
    private readonly emit: (event: NewEvent) => void,
  ) {}

  begin(
    app: string,
    from: string | null,
    to: string,
    trigger: RolloutTrigger,
    by: string,
    why?: string,
  ): RolloutRecord {
    const superseded = this.store.active(app);
    const rollout = this.store.start({
      app,
      from,
      to,
      trigger,
      by,
      ...(why === undefined ? {} : { why }),
    });
    if (superseded !== undefined) {
      this.emit({
        type: "rollout.superseded",
        app,
        message: `${app}: rollout ${superseded.id} to ${superseded.toRevision} superseded by rollout ${rollout.id} to ${to}`,
        data: { rollout: superseded.id, by: rollout.id },
      });
    }
    this.emit({
      type: "rollout.started",
      app,
      message:
        from === null
          ? `${app}: deploying revision ${to} (rollout ${rollout.id})`
          : `${app}: rolling ${trigger === "rollback" ? "back " : ""}from ${from} to ${to} (rollout ${rollout.id}, ${trigger} by ${by})${why === undefined ? "" : `: ${why}`}`,
      data: { rollout: rollout.id, from, to, trigger, by, ...(why === undefined ? {} : { why }) },
    });
    return rollout;
  }

  step(rollout: RolloutRecord | undefined, action: string, detail: string, replica?: string): void {
    if (rollout === undefined) return;
    this.store.appendStep(rollout.id, {
      action,
      detail,
      ...(replica === undefined ? {} : { replica }),
    });
  }

  /**
   * The new revision failed: it is marked bad, with the update policy it failed under (a
   * change of it retries the revision), and the way back begins.
   */
  rollBack(
    rollout: RolloutRecord,
    reason: string,
    lastOutput: readonly string[],
    failure: { readonly policy: string; readonly oldRunning: number },
  ): RolloutRecord {
    // One transaction: a revision marked bad always has the rollout that says why.
    const updated = this.store.atomically(() => {
      this.store.markBad(rollout.app, rollout.toRevision, reason, failure.policy);
      const record = this.store.update(rollout.id, {
        state: "rolling-back",
        reason,
        lastOutput,
        oldRunning: failure.oldRunning,
        step: { action: "failed", detail: reason },
      });
      this.store.appendStep(rollout.id, {
        action: "rollback",
        detail: `back to ${rollout.fromRevision}`,
      });
      return record ?? rollout;
    });
    this.emit({
      type: "rollout.failed",
      app: rollout.app,
      message: `${rollout.app}: revision ${rollout.toRevision} failed (${reason}); rolling back to ${rollout.fromRevision}${lastLine(lastOutput)}`,
      data: {
        rollout: rollout.id,
        revision: rollout.toRevision,
        rollbackTo: rollout.fromRevision,
        reason,
        lastOutput,
      },
    });
    return updated;
  }

  /** A first deploy failed: nothing to go back to, its replicas keep being restarted. */
  failFirst(rollout: RolloutRecord, reason: string, lastOutput: readonly string[]): RolloutRecord {
    const updated =
      this.store.update(rollout.id, {
        state: "failed",
        reason,
        lastOutput,
        finished: true,
        step: { action: "failed", detail: reason },
      }) ?? rollout;
    this.emit({
      type: "rollout.failed",
      app: rollout.app,
      message: `${rollout.app}: revision ${rollout.toRevision} failed (${reason}); no earlier revision to roll back to, retrying with backoff${lastLine(lastOutput)}`,
      data: { rollout: rollout.id, revision: rollout.toRevision, reason, lastOutput },
    });
    return updated;
  }

  /** The target serves with every replica ready and nothing else left. */
  complete(rollout: RolloutRecord, durationMs: number): RolloutRecord {
    const back = rollout.state === "rolling-back";
    const state: RolloutState = back ? "rolled-back" : "rolled-out";
    const revision = back ? rollout.fromRevision : rollout.toRevision;
    const updated =
      this.store.update(rollout.id, {
        state,
        finished: true,
        step: { action: "done", detail: `${revision} serves (${durationMs}ms)` },
      }) ?? rollout;
    this.emit({
      type: back ? "rollout.rolled_back" : "rollout.rolled_out",
      app: rollout.app,
      message: back
        ? `${rollout.app}: rolled back to ${revision}; revision ${rollout.toRevision} is marked bad until the definition or its update policy changes it (or \`baton rollout retry ${rollout.app}\`)`
        : `${rollout.app}: revision ${revision} rolled out in ${durationMs}ms`,
      data: { rollout: rollout.id, revision, durationMs },
    });
    return updated;
  }
}

function lastLine(lines: readonly string[]): string {
  const last = lines.at(-1);
  return last === undefined ? "" : ` — last output: ${last.slice(0, 200)}`;
}
