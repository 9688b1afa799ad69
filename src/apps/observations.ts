/**
 * What a pass applies first: the observations recorded since the last one (exits, starts
 * that ended, health verdicts), in order, before it decides anything.
 */
import type { AppSpec } from "../definition/index.js";
import type { DriverEvent } from "../runtime/driver.js";
import {
  type AppState,
  newReplica,
  type Observation,
  type Replica,
  type Slot,
} from "./app-state.js";
import { type AppsContext, driverOf, lastOutput } from "./apps-context.js";
import { stopReplica, watchHealth } from "./replica-effects.js";

/**
 * Applies what happened since the last pass, in order. Each observation leaves the inbox
 * once applied: a pass that fails half-way leaves the rest to the next one.
 */
export function applyInbox(ctx: AppsContext, name: string, state: AppState): void {
  for (let next = state.inbox[0]; next !== undefined; next = state.inbox[0]) {
    applyObservation(ctx, name, state, next);
    state.inbox.shift();
  }
}

function applyObservation(
  ctx: AppsContext,
  name: string,
  state: AppState,
  observation: Observation,
): void {
  switch (observation.kind) {
    case "exited":
      applyExit(ctx, name, state, observation.event);
      break;
    case "started":
      applyStarted(ctx, name, state, observation);
      break;
    case "start-failed":
      applyStartFailed(ctx, name, state, observation);
      break;
    case "readiness":
      applyReadiness(ctx, name, state, observation.replica, observation);
      break;
    case "liveness-failed":
      applyLivenessFailed(ctx, name, state, observation.replica, observation.detail);
      break;
    case "stable": {
      const { slot, id } = observation;
      if (slot.replicaId === id && state.replicas.has(id)) slot.backoff.onStable();
      break;
    }
  }
}

function applyExit(ctx: AppsContext, app: string, state: AppState, event: DriverEvent): void {
  const { id, code, signal } = event;
  const oom = event.oom === true;
  const replica = state.replicas.get(id);
  if (replica === undefined) return;
  replica.health?.stop();
  state.replicas.delete(id);
  ctx.deps.records.removeReplica(id);
  const memory = event.memoryLimitBytes;
  const how = oom
    ? `killed: out of memory${memory === undefined ? "" : ` (limit ${memory} bytes)`}`
    : code !== null
      ? `exited with code ${code}`
      : signal !== null
        ? `killed by ${signal}`
        : "exited";
  const slot = replica.slot === undefined ? undefined : state.slots[replica.slot];
  const expected = replica.stopIntent === "remove";
  if (slot === undefined || slot.replicaId !== id || expected) {
    ctx.journal.step(state.rollout, "stopped", how, id);
    ctx.deps.emit({
      type: "replica.stopped",
      app,
      replica: id,
      message: `${id} stopped (${how})`,
      data: { code, signal, oom },
    });
    return;
  }
  const uptime = ctx.now() - replica.handle.startedAt;
  const wait = slot.backoff.onExit(uptime);
  slot.replicaId = undefined;
  slot.restarts += 1;
  slot.restartAt = ctx.now() + wait;
  slot.lastReplicaId = id;
  slot.lastExit = how;
  const rollout = state.rollout;
  if (rollout?.state === "progressing" && replica.revision === rollout.toRevision) {
    // A new revision that exits fails its rollout; this pass rolls it back.
    state.pendingFailure = { reason: `${id} ${how}`, replica: id };
  }
  // The replacement (or the rollback) is on its way, in this pass, before the exit is
  // even described: reading the replica's last output takes a while.
  const restarts = slot.restarts;
  void describeExit(ctx, app, replica, how, { code, signal, oom, uptime, wait, restarts });
}

async function describeExit(
  ctx: AppsContext,
  app: string,
  replica: Replica,
  how: string,
  exit: {
    code: number | null;
    signal: string | null;
    oom: boolean;
    uptime: number;
    wait: number;
    restarts: number;
  },
): Promise<void> {
  const id = replica.handle.id;
  const output = await lastOutput(ctx, app, id, replica.handle.driver);
  const last = output.at(-1);
  const { code, signal, oom, uptime, wait, restarts } = exit;
  ctx.deps.emit({
    type: "replica.exited",
    app,
    replica: id,
    message: `${id} ${how}; ${wait === 0 ? "replacing it now" : `crash-loop: replacing it in ${wait}ms`}${last ? ` — last output: ${last.slice(0, 200)}` : ""}`,
    data: {
      code,
      signal,
      ...(oom ? { oom } : {}),
      uptimeMs: uptime,
      restartInMs: wait,
      restarts,
      lastOutput: output,
    },
  });
}

function applyStarted(
  ctx: AppsContext,
  name: string,
  state: AppState,
  started: Extract<Observation, { kind: "started" }>,
): void {
  const { slot, slotIndex, revision, spec, handle } = started;
  const id = handle.id;
  slot.starting = false;
  if (state.spec === undefined || state.revision !== revision || state.slots[slotIndex] !== slot) {
    // The target changed while it started: this replica belongs to no slot.
    state.replicas.set(id, newReplica(handle, revision, undefined, slot.restarts));
    return;
  }
  slot.replicaId = id;
  const replica = newReplica(handle, revision, slotIndex, slot.restarts);
  state.replicas.set(id, replica);
  const { pid } = driverOf(ctx, handle).describe(handle);
  const port = handle.port;
  ctx.deps.records.putReplica({
    id,
    app: name,
    revision,
    runtime: handle.driver,
    pid: pid ?? null,
    startTicks: null,
    port,
    startedAt: handle.startedAt,
    state: "starting",
    restarts: slot.restarts,
  });
  const where = pid === undefined ? `port ${port}` : `pid ${pid}, port ${port}`;
  ctx.journal.step(state.rollout, "started", where, id);
  ctx.deps.emit({
    type: "replica.started",
    app: name,
    replica: id,
    message: `${id} started (${where})`,
    data: { pid, port, revision },
  });
  watchHealth(ctx, name, state, replica);
  scheduleStableReset(ctx, name, state, slot, id, spec);
}

function applyStartFailed(
  ctx: AppsContext,
  name: string,
  state: AppState,
  failed: Extract<Observation, { kind: "start-failed" }>,
): void {
  const { slot, revision, id } = failed;
  slot.starting = false;
  const wait = slot.backoff.onExit(0);
  slot.restarts += 1;
  slot.restartAt = ctx.now() + wait;
  slot.lastExit = `failed to start: ${failed.message}`;
  ctx.deps.emit({
    type: "replica.start_failed",
    app: name,
    message: `${name}: ${slot.lastExit}; retrying in ${wait}ms`,
    data: { restartInMs: wait },
  });
  if (state.rollout?.state === "progressing" && state.rollout.toRevision === revision) {
    state.pendingFailure = { reason: slot.lastExit, replica: id };
  }
}

function applyReadiness(
  ctx: AppsContext,
  name: string,
  state: AppState,
  replica: Replica,
  verdict: { readonly ready: boolean; readonly detail: string },
): void {
  if (replica.state === "stopping" || state.replicas.get(replica.handle.id) !== replica) return;
  const { ready, detail } = verdict;
  const changed = replica.ready !== ready;
  replica.ready = ready;
  replica.detail = detail;
  replica.state = ready ? "ready" : replica.state === "starting" ? "starting" : "unready";
  if (!changed) return;
  ctx.deps.records.updateReplica(replica.handle.id, { state: ready ? "ready" : "running" });
  ctx.journal.step(
    state.rollout,
    ready ? "ready" : "unready",
    ready ? "" : detail,
    replica.handle.id,
  );
  ctx.deps.emit({
    type: ready ? "replica.ready" : "replica.unready",
    app: name,
    replica: replica.handle.id,
    message: ready
      ? `${replica.handle.id} is ready`
      : `${replica.handle.id} is not ready: ${detail}`,
  });
  state.adopting = false;
}

function applyLivenessFailed(
  ctx: AppsContext,
  name: string,
  state: AppState,
  replica: Replica,
  detail: string,
): void {
  if (replica.state === "stopping" || state.replicas.get(replica.handle.id) !== replica) return;
  ctx.deps.emit({
    type: "replica.unhealthy",
    app: name,
    replica: replica.handle.id,
    message: `${replica.handle.id} failed its liveness check (${detail}); restarting it`,
  });
  void stopReplica(ctx, name, state, replica, "restart");
}

/** A replica that ran `restart.resetAfter` resets its slot's backoff, in a pass. */
function scheduleStableReset(
  ctx: AppsContext,
  name: string,
  state: AppState,
  slot: Slot,
  id: string,
  spec: AppSpec,
): void {
  const timer = setTimeout(() => {
    if (slot.replicaId === id) ctx.observe(name, state, { kind: "stable", slot, id });
  }, spec.restart.resetAfterMs);
  timer.unref();
}
