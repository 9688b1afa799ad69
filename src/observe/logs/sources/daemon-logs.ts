import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { chunkedLines, followLines, LastLines } from "../../../runtime/process/log-files.js";
import { type LogRecord, lineFields } from "../index.js";
import type { LogSource, LogWindow } from "./log-source.js";

const DAY_MS = 24 * 3600 * 1000;
const TIME_OF_DAY = /^(\d\d):(\d\d):(\d\d) /;

/**
 * The own log of one of Baton's background processes: the controller
 * (`<state>/logs/controller.log`, written when it runs detached) or the proxy (`proxy.log`).
 * Its event lines start with the UTC time of day (`12:34:56 replica.exited ...`); the date
 * is the latest that puts each line at or before the next one (the last one before the file's
 * modification time). Other lines (warnings, stack traces) take the time of the next timed
 * line. Followed lines are timed when read.
 */
export class DaemonLogs implements LogSource {
  private end = 0;
  readonly file: string;

  constructor(
    stateDir: string,
    private readonly name: "controller" | "proxy",
  ) {
    this.file = join(stateDir, "logs", `${name}.log`);
  }

  /**
   * Read twice, a chunk at a time: once to learn where the complete lines end and how often
   * the time of day wraps (each wrap going back from the last line is a day earlier), then
   * to hand the lines over with their dates.
   */
  async *history(window: LogWindow): AsyncGenerator<LogRecord> {
    if (!existsSync(this.file)) return;
    const stat = statSync(this.file);
    const lastWrite = stat.mtimeMs;
    let complete = 0;
    let wraps = 0;
    let lastOfDay: number | undefined;
    for await (const { line, next } of chunkedLines(this.file, 0, stat.size)) {
      if (next > stat.size) break; // a line still being written: followed later
      complete = next;
      const ofDay = timeOfDay(line);
      if (ofDay === undefined) continue;
      if (lastOfDay !== undefined && lastOfDay > ofDay) wraps++;
      lastOfDay = ofDay;
    }
    this.end = complete;
    const { since, tail } = window;
    const last = tail === undefined ? undefined : new LastLines<LogRecord>(tail);
    const kept = (record: LogRecord): boolean => {
      if (since !== undefined && record.at < since) return false;
      if (last === undefined) return true;
      last.push(record);
      return false;
    };
    const dates = new LineDates(lastWrite, lastOfDay, wraps);
    // Lines without a time of day take the next timed line's: held until it comes.
    let waiting: string[] = [];
    for await (const { line } of chunkedLines(this.file, 0, complete)) {
      const at = dates.of(line);
      if (at === undefined) {
        waiting.push(line);
        continue;
      }
      for (const held of [...waiting, line]) {
        const record = this.record(held, at);
        if (kept(record)) yield record;
      }
      waiting = [];
    }
    for (const held of waiting) {
      const record = this.record(held, lastWrite);
      if (kept(record)) yield record;
    }
    if (last !== undefined) yield* last.items();
  }

  async follow(signal: AbortSignal, emit: (record: LogRecord) => void): Promise<void> {
    for await (const l of followLines(this.file, this.end, signal)) emit(this.record(l.line, l.at));
  }

  private record(line: string, at: number): LogRecord {
    const fields = lineFields(line);
    return { at, source: this.name, line, ...(fields === undefined ? {} : { fields }) };
  }
}

/**
 * Dates of lines read oldest first, given what a first pass found: the last timed line's time
 * of day and how many times the time of day stepped back before it. The same dates as
 * `datedLines` gives walking back from `lastWrite`.
 */
class LineDates {
  /** Midnight of the day the current timed line is on. */
  private day: number;
  private previous: number | undefined;

  constructor(
    private readonly lastWrite: number,
    lastOfDay: number | undefined,
    wraps: number,
  ) {
    const bound = lastWrite + 999; // the file's time has ms; the lines' only seconds
    let lastDay = Math.floor(bound / DAY_MS) * DAY_MS;
    if (lastOfDay !== undefined && lastDay + lastOfDay > bound) lastDay -= DAY_MS;
    this.day = lastDay - wraps * DAY_MS;
  }

  /** The line's time, or undefined for a line without a time of day. */
  of(line: string): number | undefined {
    const ofDay = timeOfDay(line);
    if (ofDay === undefined) return undefined;
    if (this.previous !== undefined && this.previous > ofDay) this.day += DAY_MS;
    this.previous = ofDay;
    return Math.min(this.day + ofDay, this.lastWrite);
  }
}

function timeOfDay(line: string): number | undefined {
  const match = TIME_OF_DAY.exec(line);
  if (match === null) return undefined;
  return (Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3])) * 1000;
}

/** Times of lines that carry a UTC time of day only, walking back from `lastWrite`. */
export function datedLines(lines: readonly string[], lastWrite: number): number[] {
  const times: number[] = new Array(lines.length);
  let bound = lastWrite + 999; // the file's time has ms; the lines' only seconds
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = TIME_OF_DAY.exec(lines[i] ?? "");
    if (match !== null) {
      const ofDay = (Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3])) * 1000;
      let at = Math.floor(bound / DAY_MS) * DAY_MS + ofDay;
      if (at > bound) at -= DAY_MS;
      bound = at;
    }
    times[i] = Math.min(bound, lastWrite);
  }
  return times;
}
