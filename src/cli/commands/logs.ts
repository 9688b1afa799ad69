import type { Command } from "commander";
import { BatonError, type LogRecord } from "../../api/index.js";
import { recordJson } from "../../client/records.js";
import { BatchedOutput } from "../../util/batched-output.js";
import { clientFor } from "../connect.js";
import { type CommonOptions, withCommonOptions } from "../context.js";
import { CliError } from "../errors.js";
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
      const format = formatter(options.json === true);
      const stop = new AbortController();
      const interrupt = (): void => stop.abort();
      if (options.follow) {
        process.once("SIGINT", interrupt);
        process.once("SIGTERM", interrupt);
      }
      // A running controller reads the logs itself, so what it shows and what `baton logs`
      // shows cannot differ; with none, the same reader runs here.
      const client = clientFor(options);
      const output = new BatchedOutput(process.stdout);
      try {
        for await (const record of client.logs(
          {
            ...(target === undefined ? {} : { target }),
            ...(options.since === undefined ? {} : { since: options.since }),
            ...(options.tail === undefined ? {} : { tail: options.tail }),
            ...(options.grep === undefined ? {} : { grep: options.grep }),
            ...(options.where === undefined ? {} : { where: options.where }),
            ...(options.follow ? { follow: true } : {}),
            ...(options.all ? { all: true } : {}),
          },
          stop.signal,
        )) {
          output.writeEventually(format(record));
          // Read no faster than the terminal takes it; a reader that went away ends it.
          if (output.full) await output.flush();
          if (output.closed) return;
        }
        await output.flush();
      } catch (error) {
        if (stop.signal.aborted) return;
        if (error instanceof BatonError || client.mode === "local") throw error;
        throw new CliError(
          "logs.interrupted",
          `the controller (pid ${client.pid}) stopped sending the logs: ${(error as Error).message}`,
          "run `baton logs` again; `baton status` says whether the controller runs",
        );
      }
    });
}

/** A record as printed: its JSON line, or `source | line` with the sources' column aligned. */
function formatter(json: boolean): (record: LogRecord) => string {
  if (json) return (record) => `${recordJson(record)}\n`;
  const color = useColor();
  // Widens as longer sources appear (a rollout's replicas), never narrows: columns stay put.
  let width = 0;
  return (record) => {
    width = Math.max(width, record.source.length);
    return `${paint(record.source.padEnd(width), "cyan", color)} | ${record.line}\n`;
  };
}
