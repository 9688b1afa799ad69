import { existsSync, statSync } from "node:fs";
import { runsDirectory, stepLogFile } from "../../../delivery/index.js";
import { chunkedLines, followLines, LastLines } from "../../../runtime/process/log-files.js";
import { type RunRecord, SqliteStore, type StepRecord } from "../../../store/index.js";
import { delay } from "../../../util/wait.js";
import { type LogRecord, lineFields, mergeByTimeAsync } from "../index.js";
import type { LogSource, LogWindow } from "./log-source.js";

const ENDED = new Set(["passed", "failed", "timed-out", "cancelled", "interrupted", "skipped"]);
const POLL_MS = 250;

/**
 * A pipeline run's steps — commands, and the builds' and deploys' progress — (`<state>/runs/<id>/logs/<step>.log`). Step logs carry no
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

  async *history(window: LogWindow): AsyncGenerator<LogRecord> {
    const steps: AsyncIterable<LogRecord>[] = [];
    for (const step of this.steps()) {
      const file = stepLogFile(this.runsDir, this.runId, step.name);
      if (!existsSync(file)) continue;
      if (window.since !== undefined && (step.finishedAt ?? Date.now()) < window.since) {
        this.ends.set(step.name, statSync(file).size);
        continue;
      }
      steps.push(this.stepHistory(step, file, window.tail));
    }
    yield* mergeByTimeAsync(steps);
  }

  /**
   * A step's lines, read a chunk at a time. Only complete lines while it runs: its last
   * partial line is followed later.
   */
  private async *stepHistory(
    step: StepRecord,
    file: string,
    tail: number | undefined,
  ): AsyncGenerator<LogRecord> {
    const stat = statSync(file);
    const at = step.startedAt ?? stat.mtimeMs;
    const last = tail === undefined ? undefined : new LastLines<LogRecord>(tail);
    let end = 0;
    for await (const { line, next } of chunkedLines(file, 0, stat.size)) {
      if (step.finishedAt === null && next > stat.size) break;
      end = Math.min(next, stat.size);
      const record = this.record(step.name, line, at);
      if (last === undefined) yield record;
      else last.push(record);
    }
    this.ends.set(step.name, end);
    if (last !== undefined) yield* last.items();
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
    return this.withStore((store) => store.runs.steps(this.runId));
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
