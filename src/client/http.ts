/**
 * The remote client's wire: JSON requests of the route table, NDJSON streams (logs) and
 * server-sent events (the event stream), with the controller's bearer token.
 */
// node:http, not fetch: fetch loads undici on first use, ~0.1 s of every CLI call.
import { type IncomingMessage, request } from "node:http";
import { errorBodyOf } from "../api/errors.js";
import type { Route, StreamRoute } from "../api/routes.js";
import { ClientError } from "./errors.js";

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

export class HttpTransport {
  constructor(
    readonly api: string,
    private readonly token: string,
    /** Names the controller in an "unreachable" error (its pid, when known). */
    private readonly who: string,
  ) {}

  /**
   * Sends a request of the route table and resolves with its answer, typed as the route
   * says; any other answer than 2xx rejects with the API's error (code, message, hint).
   */
  async send<A>(route: Route<A>): Promise<A> {
    const answer = await this.call(route.method, route.path, route.body);
    if (answer.status < 200 || answer.status >= 300) throw answerError(answer);
    // The one place JSON becomes a type: the server answers each route with its type
    // (api/routes.ts `answer`), so what came back is what the route promises.
    return answer.body as A;
  }

  /** The response of a streaming GET once its status is 200; any other status rejects. */
  open(
    route: StreamRoute<unknown>,
    signal?: AbortSignal,
    accept?: string,
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.api}${route.path}`,
        {
          agent: false,
          ...(signal === undefined ? {} : { signal }),
          headers: {
            authorization: `Bearer ${this.token}`,
            ...(accept === undefined ? {} : { accept }),
          },
        },
        (res) => {
          if (res.statusCode === 200) return resolve(res);
          readBody(res).then(
            (body) => reject(answerError({ status: res.statusCode ?? 500, body })),
            reject,
          );
        },
      );
      req.on("error", (error) => reject(signal?.aborted ? error : this.unreachable(error)));
      req.end();
    });
  }

  /**
   * One NDJSON line at a time, as text, until the stream ends or the signal aborts; a line
   * `{"error": …}` rejects with that error.
   */
  async *lines(route: StreamRoute<unknown>, signal?: AbortSignal): AsyncGenerator<string> {
    const res = await this.open(route, signal);
    res.setEncoding("utf8");
    let pending = "";
    try {
      for await (const chunk of res) {
        pending += chunk as string;
        let end = pending.indexOf("\n");
        while (end >= 0) {
          const line = pending.slice(0, end);
          pending = pending.slice(end + 1);
          if (line !== "") yield checked(line);
          end = pending.indexOf("\n");
        }
      }
    } catch (error) {
      if (signal?.aborted) return;
      throw error;
    }
    if (pending !== "") yield checked(pending);
  }

  /** Server-sent events, one JSON `data` each, until the stream ends or the signal aborts. */
  async *events<T>(route: StreamRoute<T>, signal?: AbortSignal): AsyncGenerator<T> {
    const res = await this.open(route, signal, "text/event-stream");
    res.setEncoding("utf8");
    let pending = "";
    try {
      for await (const chunk of res) {
        pending += chunk as string;
        // An event ends with a blank line; a ping (": ping") is a comment, not an event.
        for (let end = pending.indexOf("\n\n"); end >= 0; end = pending.indexOf("\n\n")) {
          const block = pending.slice(0, end);
          pending = pending.slice(end + 2);
          const data = block
            .split("\n")
            .filter((line) => line.startsWith("data:"))
            .map((line) => line.slice(5).trimStart())
            .join("\n");
          if (data !== "") yield JSON.parse(data) as T;
        }
      }
    } catch (error) {
      if (signal?.aborted) return;
      throw error;
    }
  }

  private call(method: string, path: string, body?: unknown): Promise<Answer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.api}${path}`,
        {
          method,
          // No keep-alive: an idle pooled socket would hold the CLI's exit for seconds.
          agent: false,
          headers: {
            authorization: `Bearer ${this.token}`,
            ...(payload === undefined
              ? {}
              : {
                  "content-type": "application/json",
                  "content-length": Buffer.byteLength(payload),
                }),
          },
        },
        (res) => {
          readBody(res).then(
            (parsed) => resolve({ status: res.statusCode ?? 500, body: parsed }),
            reject,
          );
        },
      );
      req.on("error", (error) => reject(this.unreachable(error)));
      req.end(payload);
    });
  }

  private unreachable(error: Error): ClientError {
    return new ClientError(
      "api.unreachable",
      `the controller (${this.who}) does not answer at ${this.api}: ${error.message}`,
      "it may be starting or stopping; try again, or see its log (.baton/logs/controller.log)",
    );
  }
}

/** A line of an NDJSON stream; a line `{"error": …}` ends the stream with that error. */
function checked(line: string): string {
  if (!line.startsWith('{"error":')) return line;
  throw answerError({ status: 500, body: JSON.parse(line) });
}

function readBody(res: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.on("error", reject);
    res.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      try {
        resolve(text === "" ? {} : JSON.parse(text));
      } catch {
        resolve({ error: { code: "api.bad_answer", message: text.slice(0, 200) } });
      }
    });
  });
}

function answerError(answer: Answer): ClientError {
  const body =
    typeof answer.body === "object" && answer.body !== null
      ? (answer.body as Record<string, unknown>)
      : {};
  const error = errorBodyOf(body, answer.status);
  return new ClientError(error.code, error.message, error.hint, error);
}
