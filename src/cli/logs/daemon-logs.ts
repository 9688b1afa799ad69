import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type LogRecord, lineFields } from "../../observe/logs/index.js";
import { followLines } from "../../runtime/process/log-files.js";
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

  async history(window: LogWindow): Promise<LogRecord[]> {
    if (!existsSync(this.file)) return [];
    const stat = statSync(this.file);
    const bytes = (await readFile(this.file)).subarray(0, stat.size);
    const text = bytes.toString("utf8");
    const complete = text.slice(0, text.lastIndexOf("\n") + 1);
    this.end = Buffer.byteLength(complete);
    const lines = complete === "" ? [] : complete.replace(/\n$/, "").split("\n");
    const times = datedLines(lines, stat.mtimeMs);
    let records = lines.map((line, i) => this.record(line, times[i] ?? stat.mtimeMs));
    if (window.since !== undefined) {
      const since = window.since;
      records = records.filter((r) => r.at >= since);
    }
    return window.tail === undefined ? records : records.slice(-window.tail);
  }

  async follow(signal: AbortSignal, emit: (record: LogRecord) => void): Promise<void> {
    for await (const l of followLines(this.file, this.end, signal)) emit(this.record(l.line, l.at));
  }

  private record(line: string, at: number): LogRecord {
    const fields = lineFields(line);
    return { at, source: this.name, line, ...(fields === undefined ? {} : { fields }) };
  }
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
