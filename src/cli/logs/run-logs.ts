import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { runsDirectory, stepLogFile } from "../../delivery/index.js";
import { type LogRecord, lineFields, mergeByTime } from "../../observe/logs/index.js";
import { followLines } from "../../runtime/process/log-files.js";
import { type RunRecord, SqliteStore, type StepRecord } from "../../store/index.js";
import { delay } from "../../util/wait.js";
import type { LogSource, LogWindow } from "./log-source.js";

const ENDED = new Set(["passed", "failed", "timed-out", "cancelled", "interrupted", "skipped"]);
const POLL_MS = 250;

/**
 * A pipeline run's command steps (`<state>/runs/<id>/logs/<step>.log`). Step logs carry no
 * time and no index: a line read from the file gets its step's start time (the order of steps
 * is kept); a followed line the time it was read. A follow ends when the run has ended and
 * every step's log is read to its end.
 */
export class RunLogs implements LogSource {
  private readonly ends = new Map<string, number>();
  private readonly runsDir: string;

  constructor(
    private readonly stateDir: string,
    readonly runId: number,
  ) {
    this.runsDir = runsDirectory(stateDir);
  }

  exists(): boolean {
    return this.withStore((store) => store.runs.get(this.runId) !== undefined);
  }

  /** The run's record once retention has removed its files (logs included). */
  pruned(): RunRecord | undefined {
    return this.withStore((store) => {
      const run = store.runs.get(this.runId);
      return run?.pruned === undefined ? undefined : run;
    });
  }

  async history(window: LogWindow): Promise<LogRecord[]> {
    const lists: LogRecord[][] = [];
    for (const step of this.steps()) {
      const file = stepLogFile(this.runsDir, this.runId, step.name);
      if (!existsSync(file)) continue;
      const end = statSync(file).size;
      const text = (await readFile(file)).subarray(0, end).toString("utf8");
      // Only complete lines: a running step's last partial line is followed later.
      const complete = step.finishedAt === null ? text.slice(0, text.lastIndexOf("\n") + 1) : text;
      this.ends.set(step.name, Buffer.byteLength(complete));
      const at = step.startedAt ?? statSync(file).mtimeMs;
      let lines = complete === "" ? [] : complete.replace(/\n$/, "").split("\n");
      if (window.since !== undefined && (step.finishedAt ?? Date.now()) < window.since) lines = [];
      if (window.tail !== undefined) lines = lines.slice(-window.tail);
      lists.push(lines.map((line) => this.record(step.name, line, at)));
    }
    return mergeByTime(lists);
  }

  async follow(signal: AbortSignal, emit: (record: LogRecord) => void): Promise<void> {
    const followed = new Map<string, Promise<void>>();
    const stepSignal = new AbortController();
    const stop = (): void => stepSignal.abort();
    signal.addEventListener("abort", stop, { once: true });
    try {
      while (!signal.aborted) {
        const steps = this.steps();
        for (const step of steps) {
          const file = stepLogFile(this.runsDir, this.runId, step.name);
          if (followed.has(step.name) || !existsSync(file)) continue;
          followed.set(step.name, this.followStep(step.name, file, stepSignal.signal, emit));
        }
        const state = this.withStore((store) => store.runs.get(this.runId)?.state);
        if (state === undefined || ENDED.has(state)) break;
        await delay(POLL_MS, signal).catch(() => undefined);
      }
      // The run has ended: let the readers catch up with what the steps wrote last.
      await delay(POLL_MS * 2, signal).catch(() => undefined);
    } finally {
      stop();
      signal.removeEventListener("abort", stop);
      await Promise.allSettled(followed.values());
    }
  }

  private async followStep(
    step: string,
    file: string,
    signal: AbortSignal,
    emit: (record: LogRecord) => void,
  ): Promise<void> {
    for await (const l of followLines(file, this.ends.get(step) ?? 0, signal)) {
      emit(this.record(step, l.line, l.at));
    }
  }

  private record(step: string, line: string, at: number): LogRecord {
    const fields = lineFields(line);
    return {
      at,
      source: `run/${this.runId} ${step}`,
      run: this.runId,
      step,
      line,
      ...(fields === undefined ? {} : { fields }),
    };
  }

  private steps(): StepRecord[] {
    return this.withStore((store) => store.runs.steps(this.runId)).filter((s) => s.kind === "run");
  }

  private withStore<T>(read: (store: SqliteStore) => T): T {
    const store = SqliteStore.open(this.stateDir, { create: false });
    try {
      return read(store);
    } finally {
      store.close();
    }
  }
}
