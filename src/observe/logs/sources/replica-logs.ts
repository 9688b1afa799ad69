import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { DockerDriver, DockerEngine } from "../../../runtime/docker/index.js";
import type { LogLine } from "../../../runtime/driver.js";
import {
  followLines,
  type TimedLine,
  timedLineStream,
} from "../../../runtime/process/log-files.js";
import { SqliteStore } from "../../../store/index.js";
import { delay } from "../../../util/wait.js";
import { type LogRecord, lineFields, mergeByTimeAsync } from "../index.js";
import type { LogSource, LogWindow } from "./log-source.js";

/** How often a follow looks for replicas that started since (a rollout's new ones). */
const DISCOVER_EVERY_MS = 250;

/**
 * An app's replicas, across revisions: every process replica with a log file (running or
 * exited, as long as the runtime keeps its file) and every container replica the store knows
 * (with `keptContainers`, also exited containers the engine keeps). Followed, replicas that
 * appear later are read from their first line, so a rollout leaves no gap.
 */
export class AppLogs implements LogSource {
  private readonly logDir: string;
  /**
   * Where each process replica's history ended, and which copy its log had then: following
   * goes on from there, and knows of a rotation since.
   */
  private readonly ends = new Map<string, { readonly end: number; readonly copy: string }>();
  /** Container replicas: the last history line's time and how many lines had that time. */
  private readonly containerEnds = new Map<string, { at: number; count: number }>();
  private readonly followed = new Set<string>();

  constructor(
    private readonly stateDir: string,
    readonly app: string,
    private readonly options: { readonly keptContainers: boolean },
  ) {
    this.logDir = join(stateDir, "logs", app);
  }

  /** Whether the state directory has anything of an app of this name. */
  exists(): boolean {
    return existsSync(this.logDir) || this.containerIds().size > 0;
  }

  /**
   * Every replica's lines, interleaved by time as they are read. Where each replica's history
   * ends is noted as it is read: a follow started after the history is read goes on from there.
   */
  async *history(window: LogWindow): AsyncGenerator<LogRecord> {
    const replicas: AsyncIterable<LogRecord>[] = [];
    for (const id of this.processIds()) {
      const read = timedLineStream(this.fileOf(id), window);
      this.ends.set(id, { end: read.end, copy: read.copy });
      replicas.push(this.processRecords(id, read.lines));
    }
    for (const id of await this.containers()) replicas.push(this.containerRecords(id, window));
    yield* mergeByTimeAsync(replicas);
  }

  private async *processRecords(
    id: string,
    lines: AsyncIterable<TimedLine>,
  ): AsyncGenerator<LogRecord> {
    for await (const l of lines) yield this.record(id, l.line, l.at);
  }

  private async *containerRecords(id: string, window: LogWindow): AsyncGenerator<LogRecord> {
    // The last line's time and how many lines in a row had it: where a follow takes over.
    let end = { at: 0, count: 0 };
    this.containerEnds.set(id, end);
    for await (const l of this.docker().logs({ id, app: this.app }, window)) {
      end = l.at === end.at ? { at: end.at, count: end.count + 1 } : { at: l.at, count: 1 };
      this.containerEnds.set(id, end);
      yield this.record(id, l.line, l.at);
    }
  }

  async follow(signal: AbortSignal, emit: (record: LogRecord) => void): Promise<void> {
    const running: Promise<void>[] = [];
    while (!signal.aborted) {
      for (const id of this.processIds()) {
        if (this.followed.has(id)) continue;
        this.followed.add(id);
        running.push(this.followProcess(id, signal, emit));
      }
      for (const id of this.containerIds()) {
        if (this.followed.has(id)) continue;
        this.followed.add(id);
        running.push(this.followContainer(id, signal, emit));
      }
      await delay(DISCOVER_EVERY_MS, signal).catch(() => undefined);
    }
    await Promise.allSettled(running);
  }

  private async followProcess(
    id: string,
    signal: AbortSignal,
    emit: (record: LogRecord) => void,
  ): Promise<void> {
    // A replica first seen now is read from its start: it began after the history was read.
    const ended = this.ends.get(id);
    for await (const l of followLines(this.fileOf(id), ended?.end ?? 0, signal, ended?.copy)) {
      emit(this.record(id, l.line, l.at));
    }
  }

  private async followContainer(
    id: string,
    signal: AbortSignal,
    emit: (record: LogRecord) => void,
  ): Promise<void> {
    const end = this.containerEnds.get(id);
    // The engine's `since` counts whole seconds: lines up to the history's last one are
    // skipped by time, and the last one's own time by count.
    let skip = end?.count ?? 0;
    const lines: AsyncIterable<LogLine> = this.docker().logs(
      { id, app: this.app },
      { follow: true, signal, ...(end === undefined || end.at === 0 ? {} : { since: end.at }) },
    );
    try {
      for await (const l of lines) {
        if (end !== undefined && l.at < end.at) continue;
        if (end !== undefined && l.at === end.at && skip > 0) {
          skip--;
          continue;
        }
        emit(this.record(id, l.line, l.at));
      }
    } catch {
      // The engine went away or the container was removed: its lines end here.
    }
  }

  private record(replica: string, line: string, at: number): LogRecord {
    const fields = lineFields(line);
    return {
      at,
      source: replica,
      app: this.app,
      replica,
      line,
      ...(fields === undefined ? {} : { fields }),
    };
  }

  private fileOf(id: string): string {
    return join(this.logDir, `${id}.log`);
  }

  private processIds(): string[] {
    if (!existsSync(this.logDir)) return [];
    const containers = this.containerIds();
    return readdirSync(this.logDir)
      .filter((f) => f.endsWith(".log"))
      .map((f) => f.slice(0, -4))
      .filter((id) => !containers.has(id))
      .sort();
  }

  private containerIds(): Set<string> {
    if (!existsSync(join(this.stateDir, "state.db"))) return new Set();
    const store = SqliteStore.open(this.stateDir, { create: false });
    try {
      return new Set(
        store
          .replicas(this.app)
          .filter((r) => r.runtime === "docker")
          .map((r) => r.id),
      );
    } finally {
      store.close();
    }
  }

  /** Container replicas the store knows, and with --all the exited ones the engine keeps. */
  private async containers(): Promise<string[]> {
    const ids = this.containerIds();
    if (this.options.keptContainers && existsSync(new DockerEngine().socketPath)) {
      const runtime = new DockerDriver({ stateDir: this.stateDir });
      try {
        for (const id of await runtime.logged(this.app, { exited: true })) ids.add(id);
      } catch {
        // no engine answers: only the replicas the store knows
      } finally {
        await runtime.close();
      }
    }
    return [...ids].sort();
  }

  private dockerRuntime: DockerDriver | undefined;
  private docker(): DockerDriver {
    this.dockerRuntime ??= new DockerDriver({ stateDir: this.stateDir });
    return this.dockerRuntime;
  }

  async close(): Promise<void> {
    await this.dockerRuntime?.close();
  }
}

/** Apps with logs in the state directory: a log directory or a replica the store knows. */
export function appsWithLogs(stateDir: string): string[] {
  const dir = join(stateDir, "logs");
  const apps = new Set<string>();
  if (existsSync(dir)) {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) apps.add(entry.name);
    }
  }
  if (existsSync(join(stateDir, "state.db"))) {
    const store = SqliteStore.open(stateDir, { create: false });
    try {
      for (const r of store.replicas()) apps.add(r.app);
    } finally {
      store.close();
    }
  }
  return [...apps].sort();
}
