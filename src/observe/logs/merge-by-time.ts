import type { LogRecord } from "./log-record.js";

/**
 * Interleaves per-source lists (each in its own order) by time. A source's own order is kept
 * even where its times are not increasing (times estimated from samples can tie or step back),
 * so no replica's lines are ever shuffled among themselves.
 */
export function mergeByTime(lists: readonly (readonly LogRecord[])[]): LogRecord[] {
  const heads = lists.map(() => 0);
  const out: LogRecord[] = [];
  for (;;) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      const record = lists[i]?.[heads[i] ?? 0];
      if (record === undefined) continue;
      const current = best === -1 ? undefined : lists[best]?.[heads[best] ?? 0];
      if (current === undefined || record.at < current.at) best = i;
    }
    if (best === -1) return out;
    const index = heads[best] ?? 0;
    const record = lists[best]?.[index];
    if (record !== undefined) out.push(record);
    heads[best] = index + 1;
  }
}
