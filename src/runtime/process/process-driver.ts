import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import type { AppSpec } from "../../definition/index.js";
import { AsyncQueue } from "../../util/async-queue.js";
import {
  CLOCK_TICKS_PER_SECOND,
  groupAlive,
  isSameProcess,
  PAGE_SIZE,
  readProcStat,
  signalGroup,
} from "../../util/proc.js";
import { delay, waitUntil } from "../../util/wait.js";
import { commandArgv } from "../command.js";
import type {
  Driver,
  DriverCapabilities,
  DriverEvent,
  Handle,
  HostContext,
  LogLine,
  LogOptions,
  ReplicaDescription,
  ReplicaIdentity,
  ReplicaRef,
  ReplicaSpec,
  ReplicaStats,
} from "../driver.js";
import { ownState } from "../driver.js";
import { inheritedEnv } from "../replica-env.js";
import { closeQuietly, openFifoForChild, watchFifo } from "./exit-watch.js";
import { FifoPool } from "./fifo-pool.js";
import { openLogForAppend, readLogLines, removeLogFiles, rotateIfLarge } from "./log-files.js";
import { DEFAULT_LOG_MAX_AGE_MS, pruneOldLogs } from "./log-retention.js";
import { sampleLogSize } from "./log-time-index.js";
import { type ReplicaFileRecord, ReplicaRecords } from "./records.js";
import { grantLog, grantSnapshot, type RunAs, runAsArgv, runAsOf } from "./run-as.js";

/** The process driver's own settings of a replica (ReplicaSpec.options). */
interface ProcessOptions {
  readonly runAs: RunAs;
}

/** Logs of this many exited replicas per app are kept (crash diagnosis); older ones go. */
const KEEP_EXITED_LOGS = 20;

/** Replicas listen on this machine's loopback; the proxy and probes reach them there. */
const LOOPBACK = "127.0.0.1";

export interface ProcessDriverOptions {
  /** The state directory; records go to `<state>/runtime/process`, logs to `<state>/logs`. */
  readonly stateDir: string;
  /** How often log sizes are checked for rotation and sampled for `--since`. */
  readonly rotateEveryMs?: number;
  /** Log settings of replicas whose spec says nothing. */
  readonly defaultLogs?: { readonly maxBytes: number; readonly maxFiles: number };
  /** How often logs are checked against their age limit (a directory scan per app). */
  readonly pruneEveryMs?: number;
  readonly now?: () => number;
}

/**
 * What the process driver keeps in a handle to find its replica again: the process group's
 * leader and its start time as the kernel reports it, which tells a reused pid apart.
 */
export interface ProcessState {
  readonly pid: number;
  readonly startTicks: number;
}

interface Tracked {
  readonly record: ReplicaFileRecord;
  readonly unwatch: () => void;
  exited: boolean;
  /** Started by this process: the child's exit event, with its status, is authoritative. */
  isChild: boolean;
  /** The log's size at its last time sample (see log-time-index.ts). */
  loggedSize?: number | undefined;
  /** Exit status, known only when this process is the replica's parent. */
  status?: { code: number | null; signal: string | null };
  readonly gone: Promise<void>;
  markGone: () => void;
}

/**
 * Runs each replica as a process in its own session and process group, its output going
 * straight to a log file. Replicas are not tied to this process: they keep running when the
 * controller dies, and a new controller adopts them through `recover()`.
 */
export class ProcessDriver implements Driver {
  readonly name = "process";
  readonly capabilities: DriverCapabilities = {
    localProcesses: true,
    // An exec probe of a process replica runs on this machine, where the replica runs too.
    exec: false,
    logs: true,
    stats: true,
    schedulerOwnsPlacement: false,
    schedulerOwnsRollout: false,
    localImages: false,
  };
  private readonly stateDir: string;
  private readonly records: ReplicaRecords;
  private readonly logDir: string;
  private readonly tracked = new Map<string, Tracked>();
  private readonly queue = new AsyncQueue<DriverEvent>();
  private readonly rotateTimer: NodeJS.Timeout;
  private readonly defaultLogs: { maxBytes: number; maxFiles: number };
  private readonly pruneEveryMs: number;
  private readonly now: () => number;
  private lastPrune = 0;
  /** Age limit per app, from the replicas started or adopted (the last one's word wins). */
  private readonly maxAgeOfApp = new Map<string, number>();
  /** Made on the first start: a driver that only recovers or stops replicas makes no spares. */
  private fifos: FifoPool | undefined;

  constructor(options: ProcessDriverOptions) {
    this.stateDir = options.stateDir;
    this.records = new ReplicaRecords(join(options.stateDir, "runtime", "process"));

    this.logDir = join(options.stateDir, "logs");
    this.defaultLogs = options.defaultLogs ?? { maxBytes: 10 * 1024 * 1024, maxFiles: 5 };
    this.pruneEveryMs = options.pruneEveryMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.rotateTimer = setInterval(() => this.rotateLogs(), options.rotateEveryMs ?? 2_000);
    this.rotateTimer.unref();
  }

  logFileOf(app: string, id: string): string {
    return join(this.logDir, app, `${id}.log`);
  }

  /**
   * A process replica runs its revision's snapshot of the app's folder as its `user:`, with
   * PATH, HOME, LANG, TZ (and what `inheritEnv:` names) of the controller's environment under
   * the app's own, and listens on the port Baton chose for it.
   */
  async specFor(app: AppSpec, replica: ReplicaIdentity, host: HostContext): Promise<ReplicaSpec> {
    if (app.command === undefined) {
      throw new Error(`bug: process app ${replica.app} has no command (checks require one)`);
    }
    const runAs = runAsOf(app);
    const cwd = await host.snapshot();
    if (runAs !== undefined) grantSnapshot(this.stateDir, cwd, runAs);
    const options: ProcessOptions | undefined = runAs === undefined ? undefined : { runAs };
    return {
      ...replica,
      command: app.command,
      cwd,
      env: {
        ...inheritedEnv(host.baseEnv, app.inheritEnv),
        ...(runAs === undefined ? {} : { HOME: runAs.home }),
        ...app.env,
        PORT: String(replica.port),
      },
      logs: app.logs,
      ...(options === undefined ? {} : { options }),
    };
  }

  async start(spec: ReplicaSpec): Promise<Handle> {
    if (spec.command === undefined) throw new Error(`replica ${spec.id}: no command to run`);
    const logFile = this.logFileOf(spec.app, spec.id);
    mkdirSync(dirname(logFile), { recursive: true, mode: 0o750 });
    const fifo = this.records.fifoPath(spec.id);
    this.fifos ??= new FifoPool(this.records.dir);
    this.fifos.take(fifo);
    const argv = commandArgv(spec.command, spec.env);
    const [command, ...commandArgs] = argv;
    if (command === undefined) throw new Error(`replica ${spec.id}: empty command`);
    const runAs = processOptions(spec)?.runAs;
    const [file = command, ...args] =
      runAs === undefined ? argv : runAsArgv(runAs, command, commandArgs);

    const logs = spec.logs ?? this.defaultLogs;
    const pending: ReplicaFileRecord = {
      id: spec.id,
      app: spec.app,
      revision: spec.revision,
      port: spec.port,
      pid: 0,
      startTicks: 0,
      startedAt: Date.now(),
      logFile,
      maxLogBytes: logs.maxBytes,
      maxLogFiles: logs.maxFiles,
      ...(spec.logs?.maxAgeMs === undefined ? {} : { maxLogAgeMs: spec.logs.maxAgeMs }),
    };
    // Recorded before the process exists: a controller killed between spawn and the final
    // record leaves a trace that `recover()` follows to the process, so it never goes orphan.
    this.records.write(pending);
    const logFd = openLogForAppend(logFile);
    const fifoFd = openFifoForChild(fifo);
    let child: ReturnType<typeof spawn>;
    try {
      if (runAs !== undefined) grantLog(logFd, runAs);
      child = spawn(file, args, {
        cwd: spec.cwd,
        env: { ...spec.env },
        // detached: setsid(), so the replica leads its own group and session and outlives us.
        detached: true,
        stdio: ["ignore", logFd, logFd, fifoFd],
      });
    } finally {
      closeQuietly(logFd);
      closeQuietly(fifoFd);
    }
    const spawnError = await new Promise<Error | undefined>((resolve) => {
      child.once("spawn", () => resolve(undefined));
      child.once("error", (error) => resolve(error));
    });
    if (spawnError !== undefined || child.pid === undefined) {
      this.records.remove(spec.id);
      throw new Error(
        `cannot start ${JSON.stringify(command)} for ${spec.id}: ${spawnError?.message}`,
      );
    }
    const pid = child.pid;
    child.unref();
    const stat = readProcStat(pid);
    const record: ReplicaFileRecord = { ...pending, pid, startTicks: stat?.startTicks ?? 0 };
    this.records.write(record);
    const tracked = this.track(record);
    tracked.loggedSize = sampleLogSize(logFile, undefined, record.startedAt);
    tracked.isChild = true;
    child.once("exit", (code, signal) => {
      tracked.status = { code, signal };
      this.onExited(tracked);
    });
    return toHandle(record);
  }

  async stop(handle: Handle, graceMs: number): Promise<void> {
    const tracked = this.tracked.get(handle.id);
    const { pid: pgid, startTicks } = stateOf(handle);
    if (tracked === undefined && !isSameProcess(pgid, startTicks)) {
      this.records.remove(handle.id);
      return;
    }
    signalGroup(pgid, "SIGTERM");
    const exited = tracked
      ? await Promise.race([tracked.gone.then(() => true), delay(graceMs).then(() => false)])
      : await waitUntil(() => !isSameProcess(pgid, startTicks), graceMs);
    if (!exited) signalGroup(pgid, "SIGKILL");
    // Children that ignored SIGTERM must not outlive their replica: no orphans.
    if (!(await waitUntil(() => !groupAlive(pgid), exited ? 1_000 : 5_000))) {
      signalGroup(pgid, "SIGKILL");
      await waitUntil(() => !groupAlive(pgid), 5_000);
    }
    if (tracked) await tracked.gone;
    this.records.remove(handle.id);
  }

  async recover(app?: string): Promise<Handle[]> {
    const handles: Handle[] = [];
    for (const record of this.records.all()) {
      if (app !== undefined && record.app !== app) continue;
      const known = this.tracked.get(record.id);
      if (known) {
        if (!known.exited) handles.push(toHandle(record));
        continue;
      }
      if (record.pid === 0) {
        // A start interrupted before its pid was recorded: stop whatever it started.
        await this.stopUnrecorded(record.id);
        this.records.remove(record.id);
        continue;
      }
      if (!isSameProcess(record.pid, record.startTicks)) {
        // Died while nobody watched, or the pid now belongs to someone else: forget it,
        // and make sure nothing of its group lingers only if the group is still its own.
        this.records.remove(record.id);
        continue;
      }
      this.track(record);
      handles.push(toHandle(record));
    }
    return handles;
  }

  events(): AsyncIterable<DriverEvent> {
    return this.queue;
  }

  logs(replica: ReplicaRef, options: LogOptions): AsyncIterable<LogLine> {
    const file =
      this.tracked.get(replica.id)?.record.logFile ?? this.logFileOf(replica.app, replica.id);
    return readLogLines(file, options);
  }

  /** Exited replicas' output is kept in their files (see KEEP_EXITED_LOGS, log-retention.ts). */
  async logged(app: string, options: { readonly exited: boolean }): Promise<string[]> {
    if (!options.exited) {
      return this.records
        .all()
        .filter((r) => r.app === app)
        .map((r) => r.id)
        .sort();
    }
    let names: string[];
    try {
      names = readdirSync(join(this.logDir, app));
    } catch {
      return [];
    }
    return names
      .filter((name) => name.endsWith(".log"))
      .map((name) => name.slice(0, -".log".length))
      .sort();
  }

  async stats(handle: Handle): Promise<ReplicaStats> {
    const { pid, startTicks } = stateOf(handle);
    const stat = readProcStat(pid);
    if (stat === undefined || stat.startTicks !== startTicks) {
      return { cpuSeconds: 0, rssBytes: 0 };
    }
    return {
      cpuSeconds: (stat.utimeTicks + stat.stimeTicks) / CLOCK_TICKS_PER_SECOND,
      rssBytes: stat.rssPages * PAGE_SIZE,
    };
  }

  describe(handle: Handle): ReplicaDescription {
    return { pid: stateOf(handle).pid };
  }

  private async stopUnrecorded(id: string): Promise<void> {
    const marker = `BATON_REPLICA=${id}`;
    for (const pid of pidsWithEnv(marker)) {
      signalGroup(pid, "SIGKILL");
      await waitUntil(() => !groupAlive(pid), 5_000);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.rotateTimer);
    for (const tracked of this.tracked.values()) tracked.unwatch();
    this.tracked.clear();
    this.queue.close();
  }

  private track(record: ReplicaFileRecord): Tracked {
    let markGone = (): void => {};
    const gone = new Promise<void>((resolve) => {
      markGone = resolve;
    });
    const tracked: Tracked = {
      record,
      exited: false,
      isChild: false,
      gone,
      markGone,
      unwatch: watchFifo(this.records.fifoPath(record.id), () => this.onFifoClosed(tracked)),
    };
    this.tracked.set(record.id, tracked);
    return tracked;
  }

  private onFifoClosed(tracked: Tracked): void {
    if (tracked.isChild) return;
    // The FIFO closes when the last process holding it exits — or when a replica closed
    // all its descriptors on purpose (daemon-style). Only the kernel's word decides.
    if (isSameProcess(tracked.record.pid, tracked.record.startTicks)) {
      void this.pollUntilGone(tracked);
      return;
    }
    this.onExited(tracked);
  }

  private async pollUntilGone(tracked: Tracked): Promise<void> {
    while (!tracked.exited && isSameProcess(tracked.record.pid, tracked.record.startTicks)) {
      await delay(250);
    }
    this.onExited(tracked);
  }

  private onExited(tracked: Tracked): void {
    if (tracked.exited) return;
    tracked.exited = true;
    tracked.unwatch();
    // The leader is gone; whatever it left in its group goes too (no orphans).
    signalGroup(tracked.record.pid, "SIGKILL");
    this.records.remove(tracked.record.id);
    this.tracked.delete(tracked.record.id);
    tracked.markGone();
    this.queue.push({
      type: "exited",
      id: tracked.record.id,
      app: tracked.record.app,
      code: tracked.status?.code ?? null,
      signal: tracked.status?.signal ?? null,
      at: Date.now(),
    });
    // After the exit event: its handler reads the dead replica's last lines first.
    setTimeout(() => this.pruneLogs(tracked.record), 10_000).unref();
  }

  /** Keeps the logs of the most recent exited replicas of an app, for `logs --all`. */
  private pruneLogs(exited: ReplicaFileRecord): void {
    const dir = dirname(exited.logFile);
    let names: string[];
    try {
      names = readdirSync(dir).filter((name) => name.endsWith(".log"));
    } catch {
      return;
    }
    const live = new Set([...this.tracked.keys()].map((id) => `${id}.log`));
    const dead = names
      .filter((name) => !live.has(name))
      .map((name) => ({
        name,
        mtime: statSync(join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0,
      }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const { name } of dead.slice(KEEP_EXITED_LOGS)) {
      removeLogFiles(join(dir, name), exited.maxLogFiles);
    }
  }

  /** Age retention of every app this driver runs replicas of (see log-retention.ts). */
  pruneByAge(now: number): string[] {
    const apps = new Map<string, number>(this.maxAgeOfApp);
    for (const { record } of this.tracked.values()) {
      apps.set(record.app, record.maxLogAgeMs ?? DEFAULT_LOG_MAX_AGE_MS);
    }
    for (const [app, maxAge] of apps) this.maxAgeOfApp.set(app, maxAge);
    const live = new Set([...this.tracked.values()].map((t) => t.record.logFile));
    const pruned: string[] = [];
    for (const [app, maxAge] of apps) {
      pruned.push(...pruneOldLogs(join(this.logDir, app), maxAge, now, live));
    }
    return pruned;
  }

  private rotateLogs(): void {
    const now = Date.now();
    if (this.now() - this.lastPrune >= this.pruneEveryMs) {
      this.lastPrune = this.now();
      this.pruneByAge(this.lastPrune);
    }
    for (const tracked of this.tracked.values()) {
      const { record } = tracked;
      if (rotateIfLarge(record.logFile, record.maxLogBytes, record.maxLogFiles)) {
        tracked.loggedSize = undefined;
      }
      tracked.loggedSize = sampleLogSize(record.logFile, tracked.loggedSize, now);
    }
  }
}

/** Processes whose environment holds `entry` (NAME=value), read from /proc. */
function pidsWithEnv(entry: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, "utf8");
      if (environ.split("\0").includes(entry)) pids.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

function processOptions(spec: ReplicaSpec): ProcessOptions | undefined {
  const options = spec.options;
  if (typeof options !== "object" || options === null || !("runAs" in options)) return undefined;
  const { runAs } = options;
  if (typeof runAs !== "object" || runAs === null) throw noIdentity(spec);
  const { uid, gid, home, name } = runAs as Record<string, unknown>;
  if (typeof uid !== "number" || typeof gid !== "number" || typeof home !== "string") {
    throw noIdentity(spec);
  }
  return { runAs: { uid, gid, home, ...(typeof name === "string" ? { name } : {}) } };
}

function noIdentity(spec: ReplicaSpec): Error {
  return new Error(`bug: replica ${spec.id} has process options without an identity`);
}

function toHandle(record: ReplicaFileRecord): Handle {
  const state: ProcessState = { pid: record.pid, startTicks: record.startTicks };
  return {
    id: record.id,
    app: record.app,
    revision: record.revision,
    driver: "process",
    host: LOOPBACK,
    port: record.port,
    startedAt: record.startedAt,
    state,
  };
}

function stateOf(handle: Handle): ProcessState {
  const { pid, startTicks } = ownState(handle, "process");
  if (typeof pid !== "number" || typeof startTicks !== "number") {
    throw new Error(`bug: ${handle.id} has no process state: ${JSON.stringify(handle.state)}`);
  }
  return { pid, startTicks };
}
