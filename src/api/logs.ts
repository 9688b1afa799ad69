/**
 * Log lines as the logs API streams them (`GET /api/v1/logs`, NDJSON: one `LogRecordJson` per
 * line) and as `baton logs --json` prints them.
 */

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

/** A `LogRecord` on the wire: the time as RFC 3339. */
export type LogRecordJson = Omit<LogRecord, "at"> & { readonly at: string };

/** What `baton logs` takes, as the logs API's query parameters. */
export interface LogsQuery {
  /** An app, a run (`12`, `run/12`) or a host; absent: every app and the controller. */
  readonly target?: string;
  /** A duration back from now (`10m`) or a date (`2026-11-26T14:00:00Z`). */
  readonly since?: string;
  /** The last N lines of each source (as typed: the controller says when it is no number). */
  readonly tail?: number | string;
  /** Only lines that match this regular expression. */
  readonly grep?: string;
  /** Only JSON lines whose fields match: `key=value`, `key!=value`, `key~regex` (all hold). */
  readonly where?: readonly string[];
  /** Keep streaming as lines are written. */
  readonly follow?: boolean;
  /** Also exited containers the engine still keeps. */
  readonly all?: boolean;
}
