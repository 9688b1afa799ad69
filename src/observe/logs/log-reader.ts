import type { BatchedOutput } from "../../util/batched-output.js";
import { lineFields } from "./line-fields.js";
import { type LogFilter, passes } from "./log-filter.js";
import type { LogQuery } from "./log-query.js";
import type { LogRecord } from "./log-record.js";
import { LogsError } from "./logs-error.js";
import { mergeByTimeAsync } from "./merge-by-time-async.js";
import { prunedRunError } from "./pruned-run.js";
import { secretMasker } from "./secret-masker.js";
import { DaemonLogs } from "./sources/daemon-logs.js";
import { HostLogs } from "./sources/host-logs.js";
import type { LogSource, LogWindow } from "./sources/log-source.js";
import { AppLogs, appsWithLogs } from "./sources/replica-logs.js";
import { RunLogs } from "./sources/run-logs.js";
import { ServiceLogs } from "./sources/service-logs.js";

/**
 * The logs a query asks for, from a state directory: its sources chosen, their histories
 * interleaved by time, secrets masked and the filters applied. What `baton logs` prints with
 * no controller running, and what the controller streams as `GET /api/v1/logs`.
 */
export class LogReader {
  private readonly mask: (line: string) => string;

  private constructor(
    private readonly sources: readonly LogSource[],
    private readonly window: LogWindow,
    private readonly filter: LogFilter,
    secrets: readonly string[],
  ) {
    this.mask = secretMasker(secrets);
  }

  /**
   * Chooses the query's sources. Throws a LogsError — before any line is read — for a target
   * nothing has logs of, or a run whose logs retention removed.
   */
  static async open(
    stateDir: string,
    query: LogQuery,
    secrets: readonly string[],
  ): Promise<LogReader> {
    const sources = await sourcesOf(stateDir, query.target, query.all);
    return new LogReader(sources, query.window, query.filter, secrets);
  }

  /**
   * The history, read as it is iterated: memory holds a record per source, whatever the size
   * of the logs. Iterate it to its end before `follow`.
   */
  async *history(): AsyncGenerator<LogRecord> {
    for await (const record of mergeByTimeAsync(this.sources.map((s) => s.history(this.window)))) {
      const shown = this.shown(record);
      if (shown !== undefined) yield shown;
    }
  }

  /** Every line written after the history, as it comes, until the signal aborts (or a run ends). */
  async follow(signal: AbortSignal, emit: (record: LogRecord) => void): Promise<void> {
    await Promise.all(
      this.sources.map((s) =>
        s.follow(signal, (record) => {
          const shown = this.shown(record);
          if (shown !== undefined) emit(shown);
        }),
      ),
    );
  }

  /**
   * Writes the history a batch at a time (waiting while the reader is behind), then — when
   * `follow` is given — each new line at once until it aborts (an abort during the history
   * ends it there); closes the sources.
   */
  async copyTo(
    output: BatchedOutput,
    print: (record: LogRecord) => void,
    follow?: AbortSignal,
  ): Promise<void> {
    try {
      try {
        for await (const record of this.history()) {
          print(record);
          if (output.full) await output.flush();
          // The reader went away, or stopped the follow while the history was printed: the
          // rest is not read.
          if (output.closed || follow?.aborted === true) return;
        }
      } finally {
        await output.goLive();
      }
      if (follow !== undefined) await this.follow(follow, print);
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.sources.map((s) => (s instanceof AppLogs ? s.close() : undefined)));
  }

  /** The record as shown: masked, and undefined when the filters drop it. */
  private shown(record: LogRecord): LogRecord | undefined {
    const masked = maskRecord(record, this.mask);
    return passes(masked, this.filter) ? masked : undefined;
  }
}

/** A swarm app's replicas are its service's tasks: the engine has their logs. */
async function sourcesOf(
  dir: string,
  target: string | undefined,
  all: boolean,
): Promise<LogSource[]> {
  if (target !== undefined) {
    const service = await ServiceLogs.find(dir, target);
    return service !== undefined ? [service] : resolveTarget(dir, target, all);
  }
  const services = await ServiceLogs.all(dir);
  const swarmApps = new Set(services.map((s) => s.app));
  return [
    ...resolveTarget(dir, undefined, all).filter(
      (s) => !(s instanceof AppLogs && swarmApps.has(s.app)),
    ),
    ...services,
  ];
}

/** APP, RUN (`12`, `run/12`) or HOST; none: every app and the controller. */
function resolveTarget(dir: string, target: string | undefined, all: boolean): LogSource[] {
  if (target === undefined) {
    return [
      ...appsWithLogs(dir).map((app) => new AppLogs(dir, app, { keptContainers: all })),
      new DaemonLogs(dir, "controller"),
      new DaemonLogs(dir, "proxy"),
    ];
  }
  const run = /^(?:run\/|#)?(\d+)$/.exec(target);
  if (run !== null) {
    const logs = new RunLogs(dir, Number(run[1]));
    if (!logs.exists()) {
      throw new LogsError(
        "logs.no_run",
        `there is no run #${run[1]} in ${dir}`,
        "`baton runs` lists the runs",
      );
    }
    const pruned = logs.pruned();
    if (pruned !== undefined) throw prunedRunError(pruned);
    return [logs];
  }
  const app = new AppLogs(dir, target, { keptContainers: all });
  if (app.exists()) return [app];
  if (target === "controller" || target === "proxy") return [new DaemonLogs(dir, target)];
  const host = new HostLogs(dir, target);
  if (host.exists()) return [host];
  throw new LogsError(
    "logs.unknown_target",
    `no app, run or host named ${JSON.stringify(target)} has logs in ${dir}`,
    "`baton status` lists the apps and `baton runs` the runs (by number); a host goes by its name under the definition's `hosts:` once Baton has configured it; without a target, `baton logs` shows every app, the controller and the proxy",
  );
}

function maskRecord(record: LogRecord, mask: (line: string) => string): LogRecord {
  const line = mask(record.line);
  if (line === record.line) return record;
  // The fields come from the line: masked, they are read again from the masked line.
  const { fields: _fields, ...rest } = record;
  const fields = lineFields(line);
  return { ...rest, line, ...(fields === undefined ? {} : { fields }) };
}
