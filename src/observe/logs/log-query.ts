import { parseDuration } from "../../definition/units.js";
import { compilePattern, type LogFilter, LogFilterError, parseCondition } from "./log-filter.js";
import { LogsError } from "./logs-error.js";
import type { LogWindow } from "./sources/log-source.js";

/**
 * A logs request as a person or script writes it: `baton logs`' arguments, or the query of
 * `GET /api/v1/logs` (`target`, `since`, `tail`, `grep`, `where` repeated, `all=1`). Both are
 * read by `parseLogQuery`, so a mistake gets the same answer from either.
 */
export interface LogQueryText {
  /** APP, RUN (`12`, `run/12`), HOST, `controller` or `proxy`; none: everything. */
  readonly target?: string | undefined;
  /** A duration back from now (`10m`) or a date (`2026-11-26T14:00:00Z`). */
  readonly since?: string | undefined;
  /** The last N lines of each replica, step or log. */
  readonly tail?: string | undefined;
  readonly grep?: string | undefined;
  /** `key=value`, `key!=value`, `key~regex`: all must hold. */
  readonly where?: readonly string[] | undefined;
  /** Also exited containers the engine keeps. */
  readonly all?: boolean | undefined;
}

export interface LogQuery {
  readonly target: string | undefined;
  readonly window: LogWindow;
  readonly filter: LogFilter;
  readonly all: boolean;
}

/** Reads a request's text; throws a LogsError naming what is wrong and how to write it. */
export function parseLogQuery(text: LogQueryText, now: number): LogQuery {
  return {
    target: text.target === "" ? undefined : text.target,
    window: { since: sinceOf(text.since, now), tail: tailOf(text.tail) },
    filter: filterOf(text.grep, text.where ?? []),
    all: text.all === true,
  };
}

/** The query string of `GET /api/v1/logs` for a request (`follow=1` added by the caller). */
export function logQueryParams(text: LogQueryText): URLSearchParams {
  const params = new URLSearchParams();
  if (text.target !== undefined) params.set("target", text.target);
  if (text.since !== undefined) params.set("since", text.since);
  if (text.tail !== undefined) params.set("tail", text.tail);
  if (text.grep !== undefined) params.set("grep", text.grep);
  for (const condition of text.where ?? []) params.append("where", condition);
  if (text.all === true) params.set("all", "1");
  return params;
}

/** The request's text back from a query string: what `logQueryParams` wrote. */
export function logQueryOf(params: URLSearchParams): LogQueryText {
  const text = (name: string): string | undefined => params.get(name) ?? undefined;
  return {
    target: text("target"),
    since: text("since"),
    tail: text("tail"),
    grep: text("grep"),
    where: params.getAll("where"),
    all: params.get("all") === "1",
  };
}

function sinceOf(text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined;
  const back = parseDuration(text);
  if (back !== undefined) return now - back;
  const at = /^\d{4}-\d\d-\d\d/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) {
    throw new LogsError(
      "logs.invalid_since",
      `--since must be a duration back from now or a date, found ${JSON.stringify(text)}`,
      "write --since 10m, --since 2h, or --since 2026-11-26T14:00:00Z",
    );
  }
  return at;
}

function tailOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const tail = Number(text);
  if (!Number.isInteger(tail) || tail < 0 || text.trim() === "") {
    throw new LogsError(
      "logs.invalid_tail",
      `--tail must be a whole number, found ${JSON.stringify(text)}`,
      "write --tail 100",
    );
  }
  return tail;
}

function filterOf(grep: string | undefined, where: readonly string[]): LogFilter {
  try {
    return {
      ...(grep === undefined ? {} : { grep: compilePattern(grep, "--grep") }),
      where: where.map(parseCondition),
    };
  } catch (error) {
    if (error instanceof LogFilterError)
      throw new LogsError("logs.invalid_filter", error.message, error.hint);
    throw error;
  }
}
