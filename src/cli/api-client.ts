import { existsSync } from "node:fs";
import { join } from "node:path";
// Straight from its file: the server module would load the whole controller into every CLI call.
import { readApiToken } from "../server/api-token.js";
import { SqliteStore, StateError } from "../store/index.js";
import { isSameProcess } from "../util/proc.js";
import { CliError } from "./errors.js";

export interface ApiAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

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

  /** Like get/post, but any non-2xx answer becomes a CliError with the API's code and message. */
  async call(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
  ): Promise<Record<string, unknown>> {
    const answer = await this.request(method, path, body);
    if (answer.status >= 200 && answer.status < 300) return answer.body;
    throw apiError(answer);
  }

  private async request(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    let response: Response;
    try {
      response = await fetch(`${this.api}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new CliError(
        "api.unreachable",
        `the controller (pid ${this.pid}) does not answer at ${this.api}: ${(error as Error).message}`,
        "it may be starting or stopping; try again, or see .baton/logs/controller.log",
      );
    }
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      parsed = { error: { code: "api.bad_answer", message: text.slice(0, 200) } };
    }
    return { status: response.status, body: parsed };
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
  if (!existsSync(join(stateDir, "state.db"))) return undefined;
  let store: SqliteStore;
  try {
    store = SqliteStore.open(stateDir, { create: false });
  } catch (error) {
    // A controller creating the store this very moment has no lease to show yet.
    if (error instanceof StateError && error.code === "state.missing") return undefined;
    throw error;
  }
  try {
    const holder = store.controller();
    if (holder === undefined || !isSameProcess(holder.pid, holder.startTicks)) return undefined;
    const token = readApiToken(stateDir);
    if (token === undefined) {
      throw new CliError(
        "api.no_token",
        `cannot read ${join(stateDir, "api-token")}`,
        "run baton as the user that started the controller",
      );
    }
    return new ApiClient(holder.api, holder.pid, token);
  } finally {
    store.close();
  }
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
