import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { type ContentTarget, httpContentTarget } from "../client/content.js";
// Straight from their files: the server module would load the whole controller into every CLI call.
import { type ApiAnswer, apiRequest } from "../server/api-request.js";
import { runningController } from "../server/controller-lease.js";
import { CliError } from "./errors.js";

export type { ApiAnswer };

/** The CLI's side of the controller API: found through the state directory's lease. */
export class ApiClient {
  constructor(
    readonly api: string,
    readonly pid: number,
    private readonly token: string,
  ) {}

  get(path: string): Promise<ApiAnswer> {
    return this.request("GET", path);
  }

  post(path: string, body: unknown): Promise<ApiAnswer> {
    return this.request("POST", path, body);
  }

  /** The controller's blob doors: where a definition's folders and files are shipped. */
  blobs(): ContentTarget {
    return httpContentTarget(this.api, this.token);
  }

  /** Like get/post, but any non-2xx answer becomes a CliError with the API's code and message. */
  async call(
    method: "GET" | "POST" | "DELETE",
    path: string,
    body?: unknown,
  ): Promise<Record<string, unknown>> {
    const answer = await this.request(method, path, body);
    if (answer.status >= 200 && answer.status < 300) return answer.body;
    throw apiError(answer);
  }

  /**
   * Calls `onEvent` with the type of each server-sent event of `path` (the controller's event stream) until
   * the returned function is called. Best effort: a stream that fails just ends, and whoever
   * listens still has its own deadline.
   */
  listen(path: string, onEvent: (type: string) => void): () => void {
    const req = httpRequest(
      `${this.api}${path}`,
      {
        agent: false,
        headers: { authorization: `Bearer ${this.token}`, accept: "text/event-stream" },
      },
      (res) => {
        if (res.statusCode !== 200) return void res.resume();
        let pending = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          pending += chunk;
          // An event ends with a blank line; a ping (": ping") is a comment, not an event.
          for (let end = pending.indexOf("\n\n"); end >= 0; end = pending.indexOf("\n\n")) {
            const block = pending.slice(0, end);
            pending = pending.slice(end + 2);
            if (/^data:/m.test(block)) onEvent(/^event: (.*)$/m.exec(block)?.[1] ?? "message");
          }
        });
      },
    );
    req.on("error", () => undefined);
    req.end();
    return () => req.destroy();
  }

  private async request(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    try {
      return await apiRequest(this.api, this.token, method, path, body);
    } catch (error) {
      throw this.unreachable(error as Error);
    }
  }

  private unreachable(error: Error): CliError {
    return new CliError(
      "api.unreachable",
      `the controller (pid ${this.pid}) does not answer at ${this.api}: ${error.message}`,
      "it may be starting or stopping; try again, or see .baton/logs/controller.log",
    );
  }
}

export function apiError(answer: ApiAnswer): CliError {
  const error = (answer.body.error ?? {}) as { code?: string; message?: string; hint?: string };
  return new CliError(
    error.code ?? `api.http_${answer.status}`,
    error.message ?? `HTTP ${answer.status}`,
    error.hint,
  );
}

/** The running controller of a state directory, or undefined when none runs. */
export function findController(stateDir: string): ApiClient | undefined {
  const running = runningController(stateDir);
  if (running === undefined) return undefined;
  if (running.token === undefined) {
    throw new CliError(
      "api.no_token",
      `cannot read ${join(stateDir, "api-token")}`,
      "run baton as the user that started the controller",
    );
  }
  return new ApiClient(running.api, running.pid, running.token);
}

export function requireController(stateDir: string): ApiClient {
  const client = findController(stateDir);
  if (client === undefined) {
    throw new CliError(
      "controller.not_running",
      `no controller runs for ${stateDir}`,
      "start one with `baton up` (or `baton up --detach`)",
    );
  }
  return client;
}
