import { once } from "node:events";
import type { Command } from "commander";
import { type LogRecord, parseRecordJson, recordJson } from "../../observe/logs/index.js";
import { type LogQueryText, logQueryParams, parseLogQuery } from "../../observe/logs/log-query.js";
import { LogReader } from "../../observe/logs/log-reader.js";
// Straight from its file: the server module would load the whole controller into the CLI.
import { readApiToken } from "../../server/api-token.js";
import { BatchedOutput } from "../../util/batched-output.js";
import { type ApiClient, findController } from "../api-client.js";
import { type CommonOptions, stateDir, withCommonOptions } from "../context.js";
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
      const dir = stateDir(options);
      const query: LogQueryText = {
        target,
        since: options.since,
        tail: options.tail,
        grep: options.grep,
        where: options.where,
        all: options.all === true,
      };
      const format = formatter(options.json === true);
      const stop = new AbortController();
      const interrupt = (): void => stop.abort();
      if (options.follow) {
        process.once("SIGINT", interrupt);
        process.once("SIGTERM", interrupt);
      }
      // A running controller reads the logs itself, so what it shows and what `baton logs`
      // shows cannot differ; with none, the same reader runs here.
      const client = findController(dir);
      if (client !== undefined) {
        await printStream(client, query, options, format, stop.signal);
        return;
      }
      const token = readApiToken(dir);
      const reader = await LogReader.open(
        dir,
        parseLogQuery(query, Date.now()),
        token === undefined ? [] : [token],
      );
      const output = new BatchedOutput(process.stdout);
      await reader.copyTo(
        output,
        (record) => output.write(format(record)),
        options.follow ? stop.signal : undefined,
      );
    });
}

/**
 * Prints what the controller streams (`GET /api/v1/logs`), a chunk at a time, reading no
 * faster than the terminal takes it: its JSON lines as they are, or as `source | line`.
 */
async function printStream(
  client: ApiClient,
  query: LogQueryText,
  options: LogsOptions,
  format: (record: LogRecord) => string,
  stop: AbortSignal,
): Promise<void> {
  const params = logQueryParams(query);
  if (options.follow) params.set("follow", "1");
  let pending = "";
  try {
    const res = await client.stream(`/api/v1/logs?${params}`, stop);
    res.setEncoding("utf8");
    for await (const chunk of res as AsyncIterable<string>) {
      const text = pending + chunk;
      const cut = text.lastIndexOf("\n");
      pending = text.slice(cut + 1);
      if (cut < 0) continue;
      let out = "";
      for (const line of text.slice(0, cut).split("\n")) out += printed(line, options, format);
      if (!process.stdout.write(out)) await once(process.stdout, "drain");
    }
  } catch (error) {
    if (stop.aborted) return;
    if (error instanceof CliError) throw error;
    throw new CliError(
      "logs.interrupted",
      `the controller (pid ${client.pid}) stopped sending the logs: ${(error as Error).message}`,
      "run `baton logs` again; `baton status` says whether the controller runs",
    );
  }
}

/** A line of the stream as printed; a failure the controller reports ends the command. */
function printed(
  line: string,
  options: LogsOptions,
  format: (record: LogRecord) => string,
): string {
  if (line.startsWith('{"error"')) {
    const { error } = JSON.parse(line) as { error: { code: string; message: string } };
    throw new CliError(error.code, error.message);
  }
  // The controller writes each record in --json's form: printed as it is.
  if (options.json) return `${line}\n`;
  const record = parseRecordJson(line);
  if (record === undefined)
    throw new CliError("api.bad_answer", `not a log line: ${line.slice(0, 200)}`);
  return format(record);
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
