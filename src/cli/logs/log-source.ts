import type { LogRecord } from "../../observe/logs/index.js";

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
  history(window: LogWindow): Promise<LogRecord[]>;
  follow(signal: AbortSignal, emit: (record: LogRecord) => void): Promise<void>;
}
