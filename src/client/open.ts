import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { parse } from "yaml";
import { runningController } from "../server/controller-lease.js";
import { SqliteStore } from "../store/index.js";
import type { BatonClient } from "./client.js";
import { ClientError, notRunning } from "./errors.js";
import { LocalClient } from "./local.js";
import { RemoteClient } from "./remote.js";

export interface ConnectOptions {
  /** The state directory; default `$BATON_STATE`, else the one `file`/`env` point to. */
  readonly state?: string;
  /** The definition file (default `baton.yaml`): its folder holds `.baton/` by default. */
  readonly file?: string;
  /** An environment whose `state:` (in the definition) is the state directory. */
  readonly env?: string;
}

/**
 * The client of a state directory: remote when a controller holds its lease, local when
 * none runs (the same answers for what can be answered without one).
 *
 *     import { connect } from "baton";
 *     const baton = connect({ file: "baton.yaml" });
 *     const { apps } = await baton.status();
 */
export function connect(options: ConnectOptions = {}): BatonClient {
  const dir = stateDirOf(options);
  const running = runningController(dir);
  if (running === undefined) return new LocalClient(dir);
  // A token of one's own (`baton token create`) says who calls; else the state directory's.
  const given = process.env.BATON_TOKEN;
  const token = given !== undefined && given !== "" ? given : running.token;
  if (token === undefined) {
    throw new ClientError(
      "api.no_token",
      `cannot read ${join(dir, "api-token")}`,
      "set BATON_TOKEN to a token from `baton token create`, or run baton as the user that started the controller",
    );
  }
  return new RemoteClient(dir, running.api, token, running.pid);
}

/** The client of a running controller; `controller.not_running` when none runs. */
export function connectRunning(options: ConnectOptions = {}): BatonClient {
  const client = connect(options);
  if (client.mode === "local") throw notRunning(client.stateDir);
  return client;
}

/**
 * `state`, else `$BATON_STATE`, else the state directory `env`'s environment declares, else
 * `.baton/` beside the definition file.
 */
export function stateDirOf(options: ConnectOptions): string {
  const given = options.state ?? process.env.BATON_STATE;
  if (given !== undefined && given !== "") return isAbsolute(given) ? given : resolve(given);
  const file = resolve(options.file ?? "baton.yaml");
  const declared = options.env === undefined ? undefined : declaredState(file, options.env);
  return resolve(dirname(file), declared ?? ".baton");
}

/**
 * `environments.<env>.state` as the file writes it, read without validating the whole
 * definition (commands such as `baton approve` only need to find a controller). A file that
 * cannot be read says nothing here: the commands that load it report why.
 */
function declaredState(file: string, env: string): string | undefined {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
  const state = field(field(field(doc, "environments"), env), "state");
  return typeof state === "string" && state !== "" ? state : undefined;
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/**
 * The environment of the last definition applied to the state directory, if any: what a
 * command builds the definition for when `--env` is not given. A state directory that does
 * not exist yet records nothing; it is not created here.
 */
export function recordedEnvironment(dir: string): string | undefined {
  if (!existsSync(join(dir, "state.db"))) return undefined;
  let store: SqliteStore | undefined;
  try {
    store = SqliteStore.open(dir, { create: false });
    return store.latestGeneration()?.environment ?? undefined;
  } catch {
    return undefined; // unreadable state: the command itself reports it when it needs it
  } finally {
    store?.close();
  }
}

/** `baton up --api-port`: the port the controller of `dir` takes at its next start. */
export { rememberApiPort } from "../server/api-port.js";
