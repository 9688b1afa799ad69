/** The event log (`GET /api/v1/events`) and its live stream (`GET /api/v1/events/stream`). */

export interface EventRecord {
  /** Monotonic, never reused: a client resumes from the last id it saw. */
  readonly id: number;
  readonly at: number;
  /** Dotted type, e.g. `replica.exited`, `app.scaled`, `definition.applied`. */
  readonly type: string;
  readonly app: string | null;
  readonly replica: string | null;
  readonly message: string;
  /** Structured detail; never holds secrets. */
  readonly data: Readonly<Record<string, unknown>>;
}

/** Events after the id `after` (0: from the first), of one app when `app` is given. */
export interface EventsQuery {
  readonly after?: number;
  readonly app?: string;
  /** 200 unless said. */
  readonly limit?: number;
}

export interface EventsAnswer {
  readonly events: readonly EventRecord[];
}

/**
 * The stream: server-sent events, each `id: ID`, `event: TYPE`, `data: EventRecord`. It
 * resumes after `Last-Event-ID` (else `after`); `after: "latest"` skips the backlog.
 */
export interface EventStreamQuery {
  readonly after?: number | "latest";
  readonly app?: string;
}
