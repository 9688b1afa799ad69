/**
 * How the apps look from outside: `baton status` per app and replica, and `baton rollout
 * status` with the live counts of the current rollout.
 */
import { type AppState, isConverged } from "./app-state.js";
import { type AppsContext, driverOf } from "./apps-context.js";
import { resolveBudget } from "./rollout-plan.js";
import type { RolloutStatus } from "./rollout-types.js";
import type { AppStatus, ReplicaStatus } from "./status.js";

/** `baton status`: each app, its replicas, and the slots waiting to restart one. */
export function appStatuses(ctx: AppsContext): AppStatus[] {
  const result: AppStatus[] = [];
  const now = ctx.now();
  for (const [name, state] of ctx.apps) {
    const replicas: ReplicaStatus[] = [];
    for (const replica of state.replicas.values()) {
      const described = driverOf(ctx, replica.handle).describe(replica.handle);
      replicas.push({
        id: replica.handle.id,
        pid: described.pid ?? null,
        port: replica.handle.port,
        state: replica.state,
        ready: replica.ready,
        revision: replica.revision,
        restarts: replica.restarts,
        startedAt: replica.handle.startedAt,
        ...(replica.detail ? { detail: replica.detail } : {}),
        runtime: replica.handle.driver,
        ...(described.container === undefined ? {} : { container: described.container }),
        ...(described.image === undefined ? {} : { image: described.image }),
      });
    }
    let crashLooping = false;
    for (const slot of state.slots) {
      // An empty slot that never had a replica is about to get one: nothing to show.
      if (slot.replicaId !== undefined || slot.starting || slot.lastReplicaId === undefined)
        continue;
      crashLooping = crashLooping || slot.backoff.consecutiveFailures >= 2;
      const restarting =
        state.waitingFor.length > 0 && slot.restartAt <= now
          ? waitingText(state.waitingFor)
          : `restarting in ${Math.max(0, slot.restartAt - now)}ms`;
      replicas.push({
        id: slot.lastReplicaId ?? `${name}-pending`,
        pid: null,
        port: null,
        state: "crash-loop",
        ready: false,
        revision: state.revision,
        restarts: slot.restarts,
        startedAt: null,
        detail: `${slot.lastExit}; ${restarting}`,
      });
    }
    const ready = [...state.replicas.values()].filter(
      (r) => r.ready && r.revision === state.revision && r.state !== "stopping",
    ).length;
    const shown = state.rollout ?? state.blocked ?? state.failedFirst;
    result.push({
      name,
      revision: state.revision,
      desired: state.desired,
      ready,
      port: state.spec?.port ?? null,
      protocol: state.spec?.protocol ?? "http",
      state: appState(state, crashLooping),
      ...(state.waitingFor.length > 0 ? { detail: waitingText(state.waitingFor) } : {}),
      replicas,
      ...(state.proxyError ? { proxyError: state.proxyError } : {}),
      ...(shown === undefined
        ? {}
        : {
            rollout: {
              id: shown.id,
              state: shown.state,
              from: shown.fromRevision,
              to: shown.toRevision,
              reason: shown.reason,
              lastOutput: shown.lastOutput,
              oldRunning: shown.oldRunning,
            },
          }),
    });
  }
  return result;
}

function appState(state: AppState, crashLooping: boolean): string {
  if (state.spec === undefined) return "deleting";
  if (state.rollout?.state === "rolling-back") return "rolling-back";
  if (state.rollout === undefined && state.blocked !== undefined) return "rolled-back";
  if (state.waitingFor.length > 0) return "waiting";
  if (crashLooping) return "crash-loop";
  if (state.failedFirst !== undefined && !isConverged(state)) return "failed";
  return isConverged(state) ? "converged" : "progressing";
}

/** `baton rollout status`: the current rollout, else the last, with live counts. */
export function rolloutStatus(ctx: AppsContext, name: string): RolloutStatus {
  const state = ctx.apps.get(name);
  const store = ctx.deps.rollouts;
  const rollout = state?.rollout ?? store.history(name, 1)[0] ?? null;
  if (state === undefined || rollout === null) {
    return { app: name, rollout, progress: null, steps: rollout ? store.steps(rollout.id) : [] };
  }
  const replicas = [...state.replicas.values()];
  const policy = state.spec?.update;
  if (policy === undefined) {
    return { app: name, rollout, progress: null, steps: store.steps(rollout.id) };
  }
  const budget = resolveBudget(policy, state.desired);
  return {
    app: name,
    rollout,
    progress: {
      target: state.revision,
      desired: state.desired,
      updated: replicas.filter(
        (r) => r.revision === state.revision && r.ready && state.pooled.has(r.handle.id),
      ).length,
      old: replicas.filter((r) => r.revision !== state.revision).length,
      strategy: budget.strategy,
      maxSurge: budget.maxSurge,
      maxUnavailable: budget.maxUnavailable,
    },
    steps: store.steps(rollout.id),
  };
}

/** `waiting for db`, `waiting for db, cache`: what an app holds its starts for. */
export function waitingText(dependencies: readonly string[]): string {
  return `waiting for ${dependencies.join(", ")}`;
}
