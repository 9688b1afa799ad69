import { readdirSync, rmSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { moveIndex } from "./log-time-index.js";

/** How long replica output is kept when an app's `logs.maxAge` says nothing. */
export const DEFAULT_LOG_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

const ROTATED = /^(.+\.log)\.(\d+)$/;

/**
 * Age retention of an app's log directory: every file (a rotated one, an exited replica's log)
 * last written before `now - maxAgeMs` goes, with its time index; a running replica's live
 * log (`live`) is emptied instead, since the replica still holds it open. Returns the files
 * removed or emptied. Size rotation bounds each log; this bounds how long anything stays.
 */
export function pruneOldLogs(
  dir: string,
  maxAgeMs: number,
  now: number,
  live: ReadonlySet<string>,
): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const cutoff = now - maxAgeMs;
  const pruned: string[] = [];
  for (const name of names) {
    if (!name.endsWith(".log") && !ROTATED.test(name)) continue;
    const file = join(dir, name);
    const mtime = statSync(file, { throwIfNoEntry: false })?.mtimeMs;
    if (mtime === undefined || mtime >= cutoff) continue;
    if (live.has(file)) {
      if (statSync(file).size === 0) continue;
      truncateSync(file, 0);
      moveIndex(file, undefined);
    } else {
      rmSync(file, { force: true });
      moveIndex(file, undefined);
    }
    pruned.push(file);
  }
  return pruned;
}
