import { appendFileSync, existsSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";

/**
 * Log lines carry no time of their own (the app writes them straight into the file), so the
 * runtime samples each live log's size every few seconds and appends `time size` to a small
 * index beside it when it grew. `--since` then starts reading at the size the file had at
 * that time: exact to within one sampling period.
 */
export function indexPath(logFile: string): string {
  return `${logFile}.idx`;
}

/** Records the file's size now if it differs from `lastSize`; returns the size seen. */
export function sampleLogSize(
  logFile: string,
  lastSize: number | undefined,
  now: number,
): number | undefined {
  let size: number;
  try {
    size = statSync(logFile).size;
  } catch {
    return lastSize;
  }
  if (size !== lastSize) appendFileSync(indexPath(logFile), `${now} ${size}\n`, { mode: 0o640 });
  return size;
}

/** Moves a log's index along with the file it describes (`from` → `to`), or drops it. */
export function moveIndex(fromLog: string, toLog: string | undefined): void {
  const from = indexPath(fromLog);
  if (!existsSync(from)) return;
  if (toLog === undefined) rmSync(from, { force: true });
  else renameSync(from, indexPath(toLog));
}

/**
 * Where to start reading `logFile` to see what was written since `since`, or undefined when
 * the file has no index (then the caller goes by modification time).
 */
export function offsetSince(logFile: string, since: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(indexPath(logFile), "utf8");
  } catch {
    return undefined;
  }
  let offset = 0;
  for (const line of text.split("\n")) {
    const [time, size] = line.split(" ").map(Number);
    if (time === undefined || size === undefined || Number.isNaN(time) || Number.isNaN(size))
      continue;
    if (time > since) break;
    offset = size;
  }
  return offset;
}
