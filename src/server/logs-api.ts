/**
 * `GET /api/v1/logs?target=&since=&tail=&grep=&where=&follow=1&all=1`: `baton logs` over
 * HTTP, with the same query (see observe/logs/log-query.ts) and the same sources. The answer
 * is NDJSON: one record per line in `baton logs --json`'s form (`{at, source, app?, replica?,
 * run?, step?, host?, line, fields?}`, `at` RFC 3339), the history a batch at a time as it
 * is read, then with `follow=1` each new line as it is written until the client goes away
 * (or the followed run ends). A request that cannot be answered gets the usual JSON error
 * before any line; a failure after the first line is the answer's last line, `{"error":
 * {code, message}}`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type LogRecord, recordJson } from "../observe/logs/index.js";
import { logQueryOf, parseLogQuery } from "../observe/logs/log-query.js";
import { LogReader } from "../observe/logs/log-reader.js";
import { BatchedOutput } from "../util/batched-output.js";

/** How far a follower may fall behind before its follow is ended: the controller's memory. */
const MAX_BEHIND_BYTES = 16 * 1024 * 1024;

/** Answers the request when it is the logs route and returns true; false otherwise. */
export async function logsRoute(
  stateDir: string,
  masked: readonly string[],
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<boolean> {
  if (req.method !== "GET" || url.pathname !== "/api/v1/logs") return false;
  const reader = await openReader(stateDir, masked, url.searchParams);
  const follow = url.searchParams.get("follow") === "1";
  const gone = new AbortController();
  res.on("close", () => gone.abort());
  res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-cache" });
  // Headers out at once: a follow with nothing to show yet is still an answer.
  res.flushHeaders();
  const output = new BatchedOutput(res);
  let behind = false;
  const print = (record: LogRecord): void => {
    output.write(`${recordJson(record)}\n`);
    // The history waits for the reader; a follow cannot hold the replicas back.
    if (res.writableLength > MAX_BEHIND_BYTES && !behind) {
      behind = true;
      gone.abort();
    }
  };
  try {
    await reader.copyTo(output, print, follow ? gone.signal : undefined);
    if (behind) {
      output.write(
        errorLine(
          "logs.behind",
          `the reader fell ${MAX_BEHIND_BYTES >> 20} MiB behind the followed lines: the follow ended`,
        ),
      );
    }
  } catch (error) {
    output.write(errorLine("internal", (error as Error).message));
  }
  res.end();
  return true;
}

/**
 * The query's reader. A mistake in the query is a LogsError, answered before any line with
 * the status of its code (api/status-codes.ts).
 */
function openReader(
  stateDir: string,
  masked: readonly string[],
  params: URLSearchParams,
): Promise<LogReader> {
  // The API token and every secret value the controller holds: never shown, even when printed.
  return LogReader.open(stateDir, parseLogQuery(logQueryOf(params), Date.now()), masked);
}

function errorLine(code: string, message: string): string {
  return `${JSON.stringify({ error: { code, message } })}\n`;
}
