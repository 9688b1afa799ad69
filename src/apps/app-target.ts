/**
 * Which revision an app should run, and the rollout that takes it there: the definition's
 * spec applied, a pin (rollback) or a retry, a failed rollout rolled back, a finished one
 * completed; the slots the target's desired count asks for.
 */
import type { AppSpec, UpdatePolicy } from "../definition/index.js";
import { appRevision, formatDuration } from "../definition/index.js";
import { checkDeadline } from "./app-decision.js";
import { type AppState, isConverged } from "./app-state.js";
import { type AppsContext, lastOutput, specOf } from "./apps-context.js";
import { SlotBackoff } from "./backoff.js";
import {
  assertRetryable,
  failedUnderOtherPolicy,
  policyChange,
  policyKey,
} from "./bad-revision.js";
import { RollbackError, rollbackTarget } from "./rollback-target.js";
import type { RolloutRecord, RolloutTrigger } from "./rollout-types.js";

/** Revisions of this many last rollouts keep their snapshots, for `baton rollback --to`. */
export const KEPT_ROLLOUTS = 10;

/** Who asked for a change of revision, for the rollout's record. */
export interface Actor {
  readonly trigger: RolloutTrigger;
  readonly by: string;
  /** Why, when the trigger does not say it all (a retry). */
  readonly why?: string;
}

/**
 * Takes the definition's spec of the app (undefined: removed or stopped) and points the app
 * at the revision it should run: the definition's, unless pinned or found bad.
 */
export function setSpec(
  ctx: AppsContext,
  name: string,
  state: AppState,
  spec: AppSpec | undefined,
  actor: Actor,
): void {
  state.spec = spec;
  if (spec === undefined) {
    state.desired = 0;
    // Removed or stopped mid-rollout: the rollout ends here, it is not left in progress.
    const active = state.rollout ?? ctx.deps.rollouts.active(name);
    if (active !== undefined) {
      ctx.deps.rollouts.update(active.id, {
        state: "superseded",
        reason: `${name} was removed or stopped during the rollout`,
        finished: true,
        step: { action: "superseded", detail: "app removed or stopped" },
      });
      state.rollout = undefined;
    }
    return;
  }
  const store = ctx.deps.rollouts;
  const revision = appRevision(spec);
  state.specs.set(revision, spec);
  store.saveRevision(name, revision, spec);
  if (state.definitionRevision !== revision) {
    // The definition moved: revisions it gave up on may be tried again some day.
    store.clearBadExcept(name, revision);
    state.definitionRevision = revision;
  }
  let pin = store.pin(name);
  if (pin !== undefined && pin.baseRevision !== revision) {
    store.clearPin(name);
    pin = undefined;
  }
  let why = actor.why;
  const mark = store.revision(name, revision);
  if (pin === undefined && mark !== undefined && failedUnderOtherPolicy(mark, spec.update)) {
    // The user's fix for a failure the revision cannot show: how it rolls out.
    why = `retried: it failed under another update policy (${policyChange(mark, spec.update)})`;
    store.clearBad(name, revision);
  }
  const bad = pin === undefined ? store.revision(name, revision)?.badReason : undefined;
  state.blocked =
    bad === undefined || bad === null
      ? undefined
      : store.history(name, 20).find((r) => r.toRevision === revision && r.reason !== null);
  const target =
    pin?.revision ?? (state.blocked !== undefined && state.stable ? state.stable : revision);
  state.desired = ctx.deps.scaleOverride(spec.name) ?? spec.replicas;
  retarget(ctx, name, state, target, why === undefined ? actor : { ...actor, why });
}

/** The definition's revision of the app is bad, but failed under another update policy. */
export function retriesOnPolicy(
  ctx: AppsContext,
  name: string,
  revision: string,
  spec: AppSpec,
): boolean {
  const store = ctx.deps.rollouts;
  if (store.pin(name) !== undefined) return false;
  return failedUnderOtherPolicy(store.revision(name, revision), spec.update);
}

/** Points the app at `target`, and records the rollout that takes it there. */
function retarget(
  ctx: AppsContext,
  name: string,
  state: AppState,
  target: string,
  actor: Actor,
): void {
  if (target !== state.revision) {
    // Replicas of another revision leave their slots: they are replaced by the rollout.
    // Slots start over with a clean backoff.
    for (const replica of state.replicas.values()) {
      if (replica.revision !== target) replica.slot = undefined;
    }
    state.slots.length = 0;
    state.revision = target;
  }
  state.targetSpec = specOf(ctx, name, state, target) ?? state.spec;
  const restart = state.targetSpec?.restart;
  if (restart !== undefined) for (const slot of state.slots) slot.backoff.setPolicy(restart);

  const active = state.rollout ?? ctx.deps.rollouts.active(name);
  if (active !== undefined) {
    const resumes =
      (active.state === "progressing" && active.toRevision === target) ||
      (active.state === "rolling-back" && active.fromRevision === target);
    if (resumes) {
      state.rollout = active;
      if (active.state === "rolling-back") state.blocked = active;
      return;
    }
  }
  if (target === state.stable) {
    if (active !== undefined) {
      ctx.deps.rollouts.update(active.id, {
        state: "superseded",
        reason: `${name} went back to ${target}`,
        finished: true,
        step: { action: "superseded", detail: `back to ${target}` },
      });
    }
    state.rollout = undefined;
    return;
  }
  if (active === undefined && state.failedFirst?.toRevision === target) return;
  state.failedFirst = undefined;
  state.rollout = ctx.journal.begin(
    name,
    state.stable ?? null,
    target,
    actor.trigger,
    actor.by,
    actor.why,
  );
}

/** One slot per desired replica: new slots start empty, surplus ones let their replicas go. */
export function resizeSlots(
  ctx: AppsContext,
  name: string,
  state: AppState,
  target: AppSpec,
): void {
  while (state.slots.length < state.desired) {
    state.slots.push({
      backoff: new SlotBackoff(target.restart),
      replicaId: undefined,
      starting: false,
      restartAt: 0,
      restarts: 0,
      lastReplicaId: undefined,
      lastExit: "",
    });
  }
  // Unslotted live replicas of the target revision (adopted, or surplus) fill empty slots.
  for (const replica of state.replicas.values()) {
    if (replica.slot !== undefined || replica.revision !== state.revision) continue;
    if (replica.state === "stopping" || replica.stopIntent === "remove") continue;
    const free = state.slots.findIndex((s) => s.replicaId === undefined && !s.starting);
    if (free === -1) break;
    const slot = state.slots[free];
    if (slot === undefined) break;
    slot.replicaId = replica.handle.id;
    slot.restarts = replica.restarts;
    replica.slot = free;
  }
  if (state.slots.length > state.desired) {
    const removed = state.slots.splice(state.desired);
    for (const slot of removed) {
      const replica = slot.replicaId === undefined ? undefined : state.replicas.get(slot.replicaId);
      if (replica !== undefined) replica.slot = undefined;
    }
    ctx.deps.emit({
      type: "app.scaled",
      app: name,
      message: `${name} scaled down to ${state.desired}`,
      data: { replicas: state.desired },
    });
  }
}

/** `rollback` in the app's turn: pins the earlier revision and retargets the app to it. */
export function rollbackNow(
  ctx: AppsContext,
  name: string,
  state: AppState,
  to: string | undefined,
  by: string,
): RolloutRecord {
  if (state.spec === undefined) {
    throw unknownApp(name);
  }
  const store = ctx.deps.rollouts;
  const current = state.stable ?? state.revision;
  const revision = rollbackTarget(store, name, current, to);
  if (revision === state.revision && state.rollout === undefined) {
    throw new RollbackError(
      "rollback.current",
      `${name} already runs revision ${revision}`,
      `see \`baton history ${name}\` for the others`,
    );
  }
  const spec = specOf(ctx, name, state, revision);
  if (spec === undefined) {
    throw new RollbackError(
      "rollback.unknown_revision",
      `the spec of ${name} revision ${revision} is not in the store`,
      `see \`baton history ${name}\``,
    );
  }
  store.setPin(name, revision, state.definitionRevision);
  retarget(ctx, name, state, revision, { trigger: "rollback", by });
  ctx.deps.requeue(name);
  const rollout = state.rollout ?? store.history(name, 1)[0];
  if (rollout === undefined) throw new Error("rollback: no rollout recorded");
  return rollout;
}

/** `retry` in the app's turn: the bad mark goes, the definition's revision is the target. */
export function retryNow(
  ctx: AppsContext,
  name: string,
  state: AppState,
  by: string,
): RolloutRecord {
  if (state.spec === undefined) {
    throw new Error(`bug: retry of ${name}, which the definition does not have`);
  }
  const revision = state.definitionRevision;
  assertRetryable(ctx.deps.rollouts, name, revision);
  ctx.deps.rollouts.clearBad(name, revision);
  setSpec(ctx, name, state, state.spec, { trigger: "apply", by, why: `retried by ${by}` });
  ctx.deps.requeue(name);
  const rollout = state.rollout;
  if (rollout === undefined || rollout.toRevision !== revision) {
    throw new Error(`bug: retrying ${name} started no rollout to ${revision}`);
  }
  return rollout;
}

/**
 * The new revision failed under `policy`: mark it bad and go back (or, for a first
 * deploy, say so).
 */
export async function failRollout(
  ctx: AppsContext,
  name: string,
  state: AppState,
  reason: string,
  replicaId: string,
  policy: UpdatePolicy,
): Promise<void> {
  const rollout = state.rollout;
  if (rollout === undefined || rollout.state !== "progressing") return;
  const output = await lastOutput(
    ctx,
    name,
    replicaId,
    state.replicas.get(replicaId)?.handle.driver ?? state.targetSpec?.runtime ?? "process",
  );
  if (state.rollout !== rollout) return;
  if (rollout.fromRevision === null) {
    state.rollout = undefined;
    state.failedFirst = ctx.journal.failFirst(rollout, reason, output);
    return;
  }
  // Old replicas the new one ran beside: they may hold what it needed (a lock, a port).
  const oldRunning = [...state.replicas.values()].filter(
    (r) => r.revision !== rollout.toRevision && r.state !== "stopping",
  ).length;
  state.rollout = ctx.journal.rollBack(rollout, reason, output, {
    policy: policyKey(policy),
    oldRunning,
  });
  state.blocked = state.rollout;
  retarget(ctx, name, state, rollout.fromRevision, { trigger: "apply", by: rollout.by });
  ctx.deps.requeue(name);
}

/** Fails a forward rollout whose new replicas miss the deadline; completes a finished one. */
export async function trackRollout(
  ctx: AppsContext,
  name: string,
  state: AppState,
  spec: AppSpec,
): Promise<void> {
  const rollout = state.rollout;
  const converged = isConverged(state);
  if (rollout !== undefined && rollout.state === "progressing") {
    const verdict = checkDeadline(
      [...state.replicas.values()]
        .filter((r) => r.revision === state.revision)
        .map((r) => ({
          id: r.handle.id,
          slotted: r.slot !== undefined,
          ready: r.ready,
          stopping: r.state === "stopping",
          startedAt: r.handle.startedAt,
          detail: r.detail,
        })),
      spec.update.healthyDeadlineMs,
      ctx.now(),
      formatDuration,
    );
    if (verdict.kind === "fail") {
      await failRollout(ctx, name, state, verdict.reason, verdict.replica, spec.update);
      return;
    }
    if (verdict.wakeInMs !== undefined) ctx.deps.requeue(name, verdict.wakeInMs);
  }
  if (!converged) return;
  if (state.rollout !== undefined) {
    ctx.journal.complete(state.rollout, ctx.now() - state.rollout.startedAt);
    state.rollout = undefined;
    state.stable = state.revision;
    void pruneSnapshots(ctx, name, state);
    return;
  }
  const failed = state.failedFirst;
  if (failed !== undefined && failed.toRevision === state.revision) {
    // A first deploy that crashed at first and recovered: it serves after all.
    ctx.deps.rollouts.update(failed.id, {
      state: "rolled-out",
      finished: true,
      step: { action: "done", detail: `${state.revision} serves after all` },
    });
    state.failedFirst = undefined;
    state.stable = state.revision;
  }
}

/** Snapshots of revisions the last rollouts did not touch can no longer be rolled back to. */
async function pruneSnapshots(ctx: AppsContext, name: string, state: AppState): Promise<void> {
  const revisions = new Set([state.revision, state.definitionRevision]);
  for (const replica of state.replicas.values()) revisions.add(replica.revision);
  for (const rollout of ctx.deps.rollouts.history(name, KEPT_ROLLOUTS)) {
    revisions.add(rollout.toRevision);
    if (rollout.fromRevision !== null) revisions.add(rollout.fromRevision);
  }
  const keep = new Set<string>();
  for (const revision of revisions) {
    const spec = specOf(ctx, name, state, revision);
    if (spec !== undefined) keep.add(ctx.deps.snapshots.dir(name, spec));
  }
  try {
    await ctx.deps.snapshots.prune(name, keep);
  } catch (error) {
    ctx.deps.emit({
      type: "snapshot.prune_failed",
      app: name,
      message: `${name}: could not remove old snapshots: ${(error as Error).message}`,
    });
  }
}

export function unknownApp(name: string): RollbackError {
  return new RollbackError("rollback.unknown_app", `there is no app named ${JSON.stringify(name)}`);
}
