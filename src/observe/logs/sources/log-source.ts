import type { LogRecord } from "../index.js";

/** The part of a log to read first: lines written since a time, and/or the last N. */
export interface LogWindow {
  readonly since?: number | undefined;
  /** The last N lines of each replica, step or file. */
  readonly tail?: number | undefined;
}

/**
 * One place logs come from (an app's replicas, a run's steps, a host, the controller). It
 * reads what it holds now, then — when followed — hands over every line written after that,
 * none twice and none missed, until the signal aborts.
 */
export interface LogSource {
  /**
   * What it holds now, in its own order (each replica's or step's lines as written), read as
   * it is iterated: a source never holds its whole history in memory (with `tail`, N lines per
   * replica, step or file). Iterate it to its end before `follow`: following goes on from
   * where the history ended.
   */
  history(window: LogWindow): AsyncIterable<LogRecord>;
  follow(signal: AbortSignal, emit: (record: LogRecord) => void): Promise<void>;
}
