import type { Command } from "commander";
import { parseDuration } from "../../definition/units.js";
import {
  compilePattern,
  type LogFilter,
  LogFilterError,
  type LogRecord,
  lineFields,
  mergeByTimeAsync,
  parseCondition,
  passes,
  recordJson,
  secretMasker,
} from "../../observe/logs/index.js";
import { readApiToken } from "../../server/index.js";
import { type CommonOptions, stateDir, withCommonOptions } from "../context.js";
import { CliError } from "../errors.js";
import { BatchedOutput } from "../logs/batched-output.js";
import { DaemonLogs } from "../logs/daemon-logs.js";
import { HostLogs } from "../logs/host-logs.js";
import type { LogSource } from "../logs/log-source.js";
import { prunedRunError } from "../logs/pruned-run.js";
import { AppLogs, appsWithLogs } from "../logs/replica-logs.js";
import { RunLogs } from "../logs/run-logs.js";
import { ServiceLogs } from "../logs/service-logs.js";
import { paint, useColor } from "../output.js";

interface LogsOptions extends CommonOptions {
  follow?: boolean;
  since?: string;
  tail?: string;
  all?: boolean;
  grep?: string;
  where?: string[];
  json?: boolean;
}

export function logsCommand(program: Command): void {
  // -f is --follow here (as in tail, docker and kubectl logs); the definition is --file.
  withCommonOptions(program.command("logs [target]"), false)
    .option("--file <file>", "the definition file (locates the state directory)", "baton.yaml")
    .description(
      "all logs in one place, interleaved by time: every app's replicas, the controller's and the proxy's own logs; " +
        "or one app's replicas (across revisions), a pipeline run's steps (12 or run/12), or what Baton did on a host",
    )
    .option("-f, --follow", "keep printing as lines are written (new replicas included)")
    .option(
      "--since <when>",
      "only lines written since then: a duration back from now (10m, 2h) or a date (2026-11-26T14:00:00Z)",
    )
    .option("--tail <lines>", "the last N lines of each replica, step or log")
    .option("--grep <regex>", "only lines that match the regular expression")
    .option(
      "--where <condition>",
      "only JSON lines whose field matches: key=value, key!=value, key~regex (repeatable; all must hold)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      "--json",
      "one JSON object per line: {at, source, app?, replica?, run?, step?, line, fields?}",
    )
    .option("--all", "also exited containers the engine still keeps")
    .action(async (target: string | undefined, options: LogsOptions) => {
      const dir = stateDir(options);
      const since = sinceOption(options.since);
      const tail = tailOption(options.tail);
      const filter = filterOptions(options);
      const sources = await sourcesOf(dir, target, options.all === true);
      const token = readApiToken(dir);
      const mask = secretMasker(token === undefined ? [] : [token]);
      const output = new BatchedOutput(process.stdout);
      const print = printer(options.json === true, (text) => output.write(text));
      const show = (record: LogRecord): void => {
        const masked = maskRecord(record, mask);
        if (passes(masked, filter)) print(masked);
      };
      const window = { since, tail };
      // Printed as the sources are read: memory holds a record per source and a batch of
      // output, whatever the size of the logs.
      try {
        for await (const record of mergeByTimeAsync(sources.map((s) => s.history(window)))) {
          show(record);
          if (output.full) await output.flush();
        }
      } finally {
        await output.goLive();
      }
      if (options.follow) {
        const abort = new AbortController();
        const stop = (): void => abort.abort();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        await Promise.all(sources.map((s) => s.follow(abort.signal, show)));
      }
      await Promise.all(sources.map((s) => (s instanceof AppLogs ? s.close() : undefined)));
    });
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
      throw new CliError(
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
  throw new CliError(
    "logs.unknown_target",
    `no app, run or host named ${JSON.stringify(target)} has logs in ${dir}`,
    "`baton status` lists the apps and `baton runs` the runs (by number); a host goes by its name under the definition's `hosts:` once Baton has configured it; without a target, `baton logs` shows every app, the controller and the proxy",
  );
}

function printer(json: boolean, write: (text: string) => void): (record: LogRecord) => void {
  if (json) return (record) => write(`${recordJson(record)}\n`);
  const color = useColor();
  // Widens as longer sources appear (a rollout's replicas), never narrows: columns stay put.
  let width = 0;
  return (record) => {
    width = Math.max(width, record.source.length);
    write(`${paint(record.source.padEnd(width), "cyan", color)} | ${record.line}\n`);
  };
}

function maskRecord(record: LogRecord, mask: (line: string) => string): LogRecord {
  const line = mask(record.line);
  if (line === record.line) return record;
  // The fields come from the line: masked, they are read again from the masked line.
  const { fields: _fields, ...rest } = record;
  const fields = lineFields(line);
  return { ...rest, line, ...(fields === undefined ? {} : { fields }) };
}

function sinceOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const back = parseDuration(text);
  if (back !== undefined) return Date.now() - back;
  const at = /^\d{4}-\d\d-\d\d/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) {
    throw new CliError(
      "logs.invalid_since",
      `--since must be a duration back from now or a date, found ${JSON.stringify(text)}`,
      "write --since 10m, --since 2h, or --since 2026-11-26T14:00:00Z",
    );
  }
  return at;
}

function tailOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const tail = Number(text);
  if (!Number.isInteger(tail) || tail < 0 || text.trim() === "") {
    throw new CliError(
      "logs.invalid_tail",
      `--tail must be a whole number, found ${JSON.stringify(text)}`,
      "write --tail 100",
    );
  }
  return tail;
}

function filterOptions(options: LogsOptions): LogFilter {
  try {
    return {
      ...(options.grep === undefined ? {} : { grep: compilePattern(options.grep, "--grep") }),
      where: (options.where ?? []).map(parseCondition),
    };
  } catch (error) {
    if (error instanceof LogFilterError)
      throw new CliError("logs.invalid_filter", error.message, error.hint);
    throw error;
  }
}
