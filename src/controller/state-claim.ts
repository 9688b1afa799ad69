/**
 * The lease on a state directory: one controller at a time runs it. Claimed before the
 * controller starts, as soon as its API listens, so that clients find the API (through the
 * lease) while the controller waits for its first definition.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { processesUsingState } from "../runtime/process/index.js";
import { SqliteStore } from "../store/index.js";
import { isSameProcess, readProcStat } from "../util/proc.js";
import { ControllerError } from "./errors.js";

/**
 * Opens the state directory's store and takes its lease for this process, serving `api`.
 * `refuseLostState` must have run first, before anything opened the store.
 */
export function claimState(stateDir: string, api: string): SqliteStore {
  const store = SqliteStore.open(stateDir, { create: true });
  const me = readProcStat(process.pid);
  const claim = store.claimController(
    { pid: process.pid, startTicks: me?.startTicks ?? 0, api, startedAt: Date.now() },
    (holder) => holder.pid !== process.pid && isSameProcess(holder.pid, holder.startTicks),
  );
  if (!claim.ok) {
    store.close();
    throw new ControllerError(
      "controller.running",
      `a controller already runs for ${stateDir} (pid ${claim.holder.pid}, ${claim.holder.api})`,
      "use `baton apply` to hand it a definition, or `baton down` to stop it",
    );
  }
  return store;
}

/** Lets the lease go and closes the store. */
export function releaseState(store: SqliteStore): void {
  store.releaseController(process.pid);
  store.close();
}

/**
 * A state directory that is gone while its replicas or proxy still run was deleted or
 * moved: starting afresh would run a second set beside the first and lose track of both.
 */
export function refuseLostState(stateDir: string): void {
  if (existsSync(join(stateDir, "state.db"))) return;
  const users = processesUsingState(stateDir);
  if (users.length === 0) return;
  const shown = users.map((u) => `${u.what} (pid ${u.pid})`).join(", ");
  throw new ControllerError(
    "state.lost",
    `${stateDir} has no state, yet ${users.length} process(es) still run from it: ${shown}; it was deleted or moved while they ran`,
    `put the state directory back (or pass its new place with --state), or stop them: kill ${users.map((u) => u.pid).join(" ")}`,
  );
}
