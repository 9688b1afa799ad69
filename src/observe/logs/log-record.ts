import type { LogRecord, LogRecordJson } from "../../api/logs.js";

/** A line of a log as the logs API streams it: the API's. */
export type { LogRecord };

/** The `--json` form: one object per line, time as RFC 3339. */
export function recordJson(record: LogRecord): string {
  const { at, ...rest } = record;
  return JSON.stringify({ at: new Date(at).toISOString(), ...rest } satisfies LogRecordJson);
}
