import { request as httpRequest, type IncomingMessage } from "node:http";
import { join } from "node:path";
import { errorBodyOf } from "../api/errors.js";
import type { EventRecord } from "../api/events.js";
import type { Route, StreamRoute } from "../api/routes.js";
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

  /**
   * Sends a request of the route table (`routes.history(app)`…) and resolves with its answer,
   * typed as the route says; any other answer than 2xx becomes a CliError with the API's code,
   * message and hint.
   */
  async send<A>(route: Route<A>): Promise<A> {
    const answer = await this.request(route.method, route.path, route.body);
    if (answer.status < 200 || answer.status >= 300) throw apiError(answer);
    // The one place JSON becomes a type: the server answers each route with its type
    // (api/routes.ts `answer`), so what came back is what the route promises.
    const body: unknown = answer.body;
    return body as A;
  }

  /** @deprecated untyped: for a route not in api/routes.ts yet; add it there and use `send`. */
  get(path: string): Promise<ApiAnswer> {
    return this.request("GET", path);
  }

  /** @deprecated untyped: for a route not in api/routes.ts yet; add it there and use `send`. */
  post(path: string, body: unknown): Promise<ApiAnswer> {
    return this.request("POST", path, body);
  }

  /** @deprecated untyped: for a route not in api/routes.ts yet; add it there and use `send`. */
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
   * `call`, with the answer typed as the route's (which the caller names: the server and the
   * CLI share the answer types of the query functions behind each route).
   */
  async answer<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    return (await this.call(method, path, body)) as T;
  }

  /**
   * Calls `onEvent` with the type of each server-sent event of the controller's event stream
   * until the returned function is called. Best effort: a stream that fails just ends, and
   * whoever listens still has its own deadline.
   */
  listen(route: StreamRoute<EventRecord>, onEvent: (type: string) => void): () => void {
    const req = httpRequest(
      `${this.api}${route.path}`,
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

  /**
   * A GET whose answer is a stream (`/api/v1/logs`): the response once its status is 200, to
   * be read as it comes; any other status becomes a CliError with the API's code and message.
   * Aborting the signal ends the request.
   */
  stream(path: string, signal: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        `${this.api}${path}`,
        { agent: false, signal, headers: { authorization: `Bearer ${this.token}` } },
        (res) => {
          if (res.statusCode === 200) return resolve(res);
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => {
            let body: Record<string, unknown> = {};
            try {
              body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
            } catch {
              // not JSON: the status alone says what went wrong
            }
            reject(apiError({ status: res.statusCode ?? 500, body }));
          });
        },
      );
      req.on("error", (error) => reject(signal.aborted ? error : this.unreachable(error)));
      req.end();
    });
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
  const error = errorBodyOf(answer.body, answer.status);
  return new CliError(error.code, error.message, error.hint);
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
