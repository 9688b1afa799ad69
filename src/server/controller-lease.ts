import { existsSync } from "node:fs";
import { join } from "node:path";
import { SqliteStore, StateError } from "../store/index.js";
import { isSameProcess } from "../util/proc.js";
import { readApiToken } from "./api-token.js";

/** A controller that holds a state directory's lease and is alive. */
export interface RunningController {
  readonly api: string;
  readonly pid: number;
  /** undefined when this user cannot read the state directory's API token. */
  readonly token: string | undefined;
}

/**
 * The controller running for a state directory, read from the lease it holds in the store:
 * the CLI finds its controller so, and a pipeline finds another environment's controller.
 * undefined when none runs (no store yet, no lease, or the lease's process is gone).
 */
export function runningController(stateDir: string): RunningController | undefined {
  if (!existsSync(join(stateDir, "state.db"))) return undefined;
  let store: SqliteStore;
  try {
    store = SqliteStore.open(stateDir, { create: false });
  } catch (error) {
    // A controller creating the store this very moment has no lease to show yet.
    if (error instanceof StateError && error.code === "state.missing") return undefined;
    throw error;
  }
  try {
    const holder = store.controller();
    if (holder === undefined || !isSameProcess(holder.pid, holder.startTicks)) return undefined;
    return { api: holder.api, pid: holder.pid, token: readApiToken(stateDir) };
  } finally {
    store.close();
  }
}
