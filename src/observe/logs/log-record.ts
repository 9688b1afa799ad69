import type { LogRecord, LogRecordJson } from "../../api/logs.js";

/** A line of a log as the logs API streams it: the API's. */
export type { LogRecord };

/** The `--json` form: one object per line, time as RFC 3339. */
export function recordJson(record: LogRecord): string {
  const { at, ...rest } = record;
  return JSON.stringify({ at: new Date(at).toISOString(), ...rest } satisfies LogRecordJson);
}

/**
 * A record back from its `--json` form (a line of `GET /api/v1/logs`); undefined when the
 * text is not one.
 */
export function parseRecordJson(json: string): LogRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const at = typeof v.at === "string" ? Date.parse(v.at) : Number.NaN;
  if (Number.isNaN(at) || typeof v.source !== "string" || typeof v.line !== "string")
    return undefined;
  const text = (key: string): string | undefined =>
    typeof v[key] === "string" ? (v[key] as string) : undefined;
  const [app, replica, step, host] = [text("app"), text("replica"), text("step"), text("host")];
  const fields = v.fields;
  // The keys in the order the sources write them: printed again, the line is the same.
  return {
    at,
    source: v.source,
    ...(app === undefined ? {} : { app }),
    ...(replica === undefined ? {} : { replica }),
    ...(typeof v.run === "number" ? { run: v.run } : {}),
    ...(step === undefined ? {} : { step }),
    ...(host === undefined ? {} : { host }),
    line: v.line,
    ...(typeof fields === "object" && fields !== null && !Array.isArray(fields)
      ? { fields: fields as Record<string, unknown> }
      : {}),
  };
}
