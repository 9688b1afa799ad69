/**
 * The controller process: `node dist/controller/main.js --state DIR [--api-port P] [--await-apply]`.
 *
 * Serves the API, takes the state directory's lease and runs the controller from the last
 * generation the state recorded — its text, and the folders and files it was applied with,
 * from the uploaded blobs: no client need be there, and none of its disk is read. With no
 * generation (or `--await-apply`, as `baton up` starts it) nothing starts until a definition
 * is applied through the API. Events are printed as they happen. SIGTERM and SIGINT stop the
 * controller only: replicas and the proxy keep serving; `POST /api/v1/shutdown` with
 * `workloads` stops them too (`baton down`).
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Definition } from "../definition/index.js";
import { makeStatePrivate } from "../security/sandbox/index.js";
import { unsealSource } from "../security/secrets/index.js";
import {
  ApiServer,
  apiPortPath,
  ensureApiToken,
  rememberApiPort,
  rememberedApiPort,
} from "../server/index.js";
import { BlobStore, readShippedDefinition, type SqliteStore } from "../store/index.js";
import { Controller } from "./controller.js";
import { ControllerError } from "./errors.js";
import { eventLine, wantsColor } from "./event-printer.js";
import { claimState, refuseLostState, releaseState } from "./state-claim.js";

/** Events shown from before the start, so that a restarted controller says where it left off. */
const BACKLOG_EVENTS = 20;
/** Exit codes as the CLI's: 1 the user's input or the world said no, 70 a bug in Baton. */
const EXIT_USER = 1;
const EXIT_BUG = 70;

interface Options {
  readonly stateDir: string;
  readonly apiPort?: number;
  readonly awaitApply: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      state: { type: "string" },
      "api-port": { type: "string" },
      "await-apply": { type: "boolean" },
    },
    strict: true,
  });
  if (values.state === undefined) {
    throw new ControllerError(
      "controller.usage",
      "no state directory given",
      "usage: main.js --state DIR [--api-port PORT] [--await-apply]",
    );
  }
  const port = values["api-port"];
  if (port !== undefined && !/^\d+$/.test(port)) {
    throw new ControllerError(
      "up.invalid_api_port",
      `--api-port must be a port number from 0 to 65535, found ${JSON.stringify(port)}`,
      "write --api-port 9400 (or --api-port 0 for any free port)",
    );
  }
  return {
    stateDir: resolve(values.state),
    ...(port === undefined ? {} : { apiPort: Number(port) }),
    awaitApply: values["await-apply"] === true,
  };
}

async function run(opts: Options): Promise<void> {
  const { stateDir } = opts;
  makeStatePrivate(stateDir);
  // Before anything opens the store: the API server does, and a fresh state.db would hide
  // that the state directory was deleted under running replicas.
  refuseLostState(stateDir);
  const token = ensureApiToken(stateDir);
  const color = wantsColor(process.stdout);
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  let controller: Controller | undefined;
  /** The lease, held by this process until the controller takes the store over. */
  let claimed: SqliteStore | undefined;
  let exiting = false;

  const exit = async (workloads: boolean, code = 0): Promise<void> => {
    if (exiting) return;
    exiting = true;
    if (controller !== undefined) await controller.shutdown({ workloads });
    else if (claimed !== undefined) releaseState(claimed);
    await server.close();
    if (code === 0 && !workloads) {
      say(
        "controller stopped; apps keep serving — `baton down` stops them, `baton up` takes them back",
      );
    }
    process.exit(code);
  };

  const start = async (definition: Definition, appliedBy: string) => {
    if (claimed === undefined) throw new Error("bug: starting a controller without the lease");
    const started = await Controller.start({ stateDir, definition, appliedBy, api }, claimed);
    controller = started.controller;
    claimed = undefined;
    for (const event of controller.listEvents({ limit: BACKLOG_EVENTS })) {
      say(eventLine(event, color));
    }
    controller.events.subscribe((event) => say(eventLine(event, color)));
    return started;
  };

  const server = new ApiServer({
    token,
    stateDir,
    onShutdown: (workloads) => void exit(workloads),
    start,
    // The first definition could not be run: as a controller whose start failed, this ends.
    // Whoever applied it was told why; `baton up` (--await-apply) says it, so it is said once.
    onStartFailed: (error) => {
      if (!opts.awaitApply) report(error);
      void exit(false, EXIT_USER);
    },
  });
  const port = opts.apiPort ?? rememberedApiPort(stateDir);
  const api = await server.listen(port).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EADDRINUSE" && error.code !== "EACCES") throw error;
    throw new ControllerError(
      "up.api_port_in_use",
      `the API cannot listen on 127.0.0.1:${port}: ${error.code === "EACCES" ? "not allowed" : "the port is in use"}`,
      `choose another with \`baton up --api-port PORT\`, or \`--api-port 0\` for any free port (kept in ${apiPortPath(stateDir)})`,
    );
  });
  if (opts.apiPort !== undefined) rememberApiPort(stateDir, opts.apiPort);
  try {
    claimed = claimState(stateDir, api);
  } catch (error) {
    await server.close();
    throw error;
  }
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    process.on(signal, () => void exit(false));
  }

  const stored = opts.awaitApply ? undefined : await storedDefinition(claimed, stateDir, say);
  if (stored !== undefined) {
    try {
      server.attach((await start(stored.definition, stored.appliedBy)).controller);
    } catch (error) {
      report(error);
      await exit(false, EXIT_USER);
    }
  } else if (!opts.awaitApply) {
    say(`controller waiting for a definition (api ${api}): \`baton apply\` hands it one`);
  }
  // Keeps the process alive until one of the exits above.
  await new Promise<never>(() => {});
}

/**
 * The last generation the state recorded, read back from its text and uploaded content;
 * undefined (said why) when there is none to run.
 */
async function storedDefinition(
  store: SqliteStore,
  stateDir: string,
  say: (line: string) => void,
): Promise<{ definition: Definition; appliedBy: string } | undefined> {
  const latest = store.latestGeneration();
  if (latest === undefined) return undefined;
  if (latest.content === null) {
    say(
      `generation ${latest.id} was applied before definitions carried their files: it cannot be read back without its client`,
    );
    return undefined;
  }
  try {
    const definition = readShippedDefinition(
      {
        file: latest.file,
        source: await unsealSource(latest.source, latest.environment ?? undefined),
        content: latest.content,
        ...(latest.environment === null ? {} : { environment: latest.environment }),
      },
      new BlobStore(stateDir),
      stateDir,
    );
    return { definition, appliedBy: latest.appliedBy };
  } catch (error) {
    say(`generation ${latest.id} cannot be read back: ${(error as Error).message}`);
    return undefined;
  }
}

/** As the CLI shows errors: the code, the message and the hint, or a bug's stack. */
function report(error: unknown): number {
  const write = (text: string): void => void process.stderr.write(`${text}\n`);
  const color = wantsColor(process.stderr);
  if (error instanceof Error && error.name === "SpecError" && "format" in error) {
    write((error as Error & { format(o: { color: boolean }): string }).format({ color }));
    return EXIT_USER;
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  const hint = (error as { hint?: unknown } | undefined)?.hint;
  if (error instanceof Error && typeof code === "string" && error.name !== "Error") {
    write(`${color ? "\u001b[31m" : ""}error[${code}]${color ? "\u001b[0m" : ""} ${error.message}`);
    if (typeof hint === "string" && hint !== "") write(`  hint: ${hint}`);
    return EXIT_USER;
  }
  write(`bug: ${error instanceof Error ? error.stack : String(error)}`);
  write("This is a bug in Baton, not in your definition; please report it with the lines above.");
  return EXIT_BUG;
}

try {
  await run(options());
} catch (error) {
  process.exit(report(error));
}
