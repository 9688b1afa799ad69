/**
 * One line of any log Baton keeps — a replica's output, a pipeline step's, what Baton did on a
 * host, or the controller's own — with the time it was written and where it comes from.
 */
export interface LogRecord {
  /** ms since epoch. */
  readonly at: number;
  /** What the prefix shows: a replica id, `run/12 test`, a host name, `controller`. */
  readonly source: string;
  readonly app?: string;
  readonly replica?: string;
  readonly run?: number;
  readonly step?: string;
  readonly host?: string;
  readonly line: string;
  /** The line's own fields when it is a JSON object (`{"level":"error","msg":...}`). */
  readonly fields?: Readonly<Record<string, unknown>>;
}

/** The `--json` form: one object per line, time as RFC 3339. */
export function recordJson(record: LogRecord): string {
  const { at, ...rest } = record;
  return JSON.stringify({ at: new Date(at).toISOString(), ...rest });
}
