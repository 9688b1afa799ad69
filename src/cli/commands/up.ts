import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import type { BatonClient } from "../../client/client.js";
import { connect, rememberApiPort } from "../../client/open.js";
import type { Definition } from "../../definition/index.js";
import { makeStatePrivate } from "../../security/sandbox/index.js";
import { delay } from "../../util/wait.js";
import { clientFor } from "../connect.js";
import { whoAmI, withCommonOptions } from "../context.js";
import { type EnvironmentOptions, loadForState } from "../definition.js";
import { CliError } from "../errors.js";
import { say, useColor } from "../output.js";
import { renderPlan } from "../plan-view.js";
import { buildMissing } from "./apply.js";

const START_DEADLINE_MS = 60_000;
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

export function upCommand(program: Command): void {
  withCommonOptions(program.command("up"))
    .description("run the controller: start the apps and keep them as the definition says")
    .option("-d, --detach", "run the controller in the background; return once its API answers")
    .option(
      "--api-port <port>",
      "serve the API (and GET /metrics) on this port of 127.0.0.1, kept for later starts; 0: any free port",
    )
    .action(async (options: EnvironmentOptions & { detach?: boolean; apiPort?: string }) => {
      const apiPort = apiPortOption(options.apiPort);
      const { definition, dir } = loadForState(options);
      const running = clientFor(options);
      await buildMissing(running, definition, say);
      if (running.mode === "remote") {
        // Like `docker compose up` on a running project: hand over the definition.
        const body = await running.apply(definition, { by: whoAmI(), progress: say });
        say(renderPlan(body.plan, { color: useColor() }));
        say(`a controller already runs (pid ${running.pid}); definition applied`);
        if (apiPort !== undefined && `http://127.0.0.1:${apiPort}` !== running.api) {
          rememberApiPort(dir, apiPort);
          say(
            `its API stays on ${running.api} until it restarts; then --api-port ${apiPort} holds`,
          );
        }
        return;
      }
      if (options.detach) return detach(definition, dir, apiPort);
      await foreground(definition, dir, apiPort);
    });
}

function apiPortOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || text.trim() === "") {
    throw new CliError(
      "up.invalid_api_port",
      `--api-port must be a port number from 0 to 65535, found ${JSON.stringify(text)}`,
      "write --api-port 9400 (or --api-port 0 for any free port)",
    );
  }
  return port;
}

/**
 * The controller's own entry point beside this CLI: this module is a chunk of the bundle in
 * dist/bin/, where the controller's bundle is too (dist/bin/controller.js: it starts ~0.3 s
 * sooner than dist/controller/main.js, its source), or dist/cli/commands/up.js, or
 * src/cli/commands/up.ts under tsx.
 */
function controllerEntry(): string {
  const here = fileURLToPath(import.meta.url);
  const bundled = join(dirname(here), "controller.js");
  if (basename(dirname(here)) === "bin" && existsSync(bundled)) return bundled;
  const root = /^(.*)[/\\](?:dist|src)[/\\]/.exec(here)?.[1] ?? resolve(dirname(here), "..");
  const entry = join(root, "dist", "controller", "main.js");
  if (!existsSync(entry)) {
    throw new Error(`the controller's entry ${entry} does not exist; build with \`npm run build\``);
  }
  return entry;
}

function controllerArgs(dir: string, apiPort: number | undefined): string[] {
  const args = [controllerEntry(), "--state", dir, "--await-apply"];
  if (apiPort !== undefined) args.push("--api-port", String(apiPort));
  return args;
}

/**
 * Runs the controller in the foreground: its events are printed here, Ctrl-C (or SIGTERM)
 * stops it — not the apps — and `baton up` ends with it, with its exit code.
 */
async function foreground(
  definition: Definition,
  dir: string,
  apiPort: number | undefined,
): Promise<void> {
  makeStatePrivate(dir);
  const child = spawn(process.execPath, controllerArgs(dir, apiPort), { stdio: "inherit" });
  const exited = exitOf(child);
  for (const signal of SIGNALS) process.on(signal, () => child.kill(signal));
  const client = await started(child, dir, exited);
  if (client === "timeout") {
    throw new CliError(
      "up.failed",
      "the controller did not answer within 60s: stopped",
      "see what it printed above",
    );
  }
  if (client === "exited") {
    // It said why on the terminal it shares with us.
    process.exitCode = (await exited) ?? 1;
    return;
  }
  await applyFirst(client, definition, exited);
  process.exitCode = (await exited) ?? 1;
}

/** Starts the controller in the background, its output in `<state>/logs/controller.log`. */
async function detach(
  definition: Definition,
  dir: string,
  apiPort: number | undefined,
): Promise<void> {
  makeStatePrivate(dir);
  mkdirSync(join(dir, "logs"), { recursive: true, mode: 0o700 });
  const logFile = join(dir, "logs", "controller.log");
  const log = openSync(logFile, "a", 0o600);
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, controllerArgs(dir, apiPort), {
      detached: true,
      stdio: ["ignore", log, log],
      env: { ...process.env, NO_COLOR: "1" },
    });
  } finally {
    closeSync(log);
  }
  const exited = exitOf(child);
  child.unref();
  const client = await started(child, dir, exited);
  if (client === "exited" || client === "timeout") {
    const tail = readFileSync(logFile, "utf8").split("\n").slice(-15).join("\n");
    throw new CliError(
      "up.failed",
      client === "exited"
        ? `the controller exited (code ${await exited}) before its API answered`
        : "the controller did not answer within 60s",
      `its log (${logFile}) ends with:\n${tail}`,
    );
  }
  await applyFirst(client, definition, exited);
  say(`controller started in the background (pid ${client.pid}, ${client.api}); log: ${logFile}`);
  say("`baton status` shows the apps, `baton wait` waits until they are ready");
}

/** Resolves with the exit code (null when killed by a signal) once the child has exited. */
function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((done) => {
    child.once("exit", (code) => done(code));
    child.once("error", () => done(1));
  });
}

/**
 * The API of the controller just started, once its lease names it; "exited" when it ended
 * first, "timeout" (and stopped) when it did not answer in time.
 */
async function started(
  child: ChildProcess,
  dir: string,
  exited: Promise<number | null>,
): Promise<BatonClient | "exited" | "timeout"> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + START_DEADLINE_MS;
  while (Date.now() < deadline && !gone) {
    const client = connect({ state: dir });
    if (client.mode === "remote" && client.pid === child.pid) return client;
    await delay(50);
  }
  if (gone) return "exited";
  child.kill("SIGTERM");
  return "timeout";
}

/**
 * The controller waits for its first definition: it is shipped and applied now. Refused, the
 * controller is stopped (if the refusal did not stop it) and the refusal is this command's.
 */
async function applyFirst(
  client: BatonClient,
  definition: Definition,
  exited: Promise<number | null>,
): Promise<void> {
  try {
    await client.apply(definition, { by: whoAmI() });
  } catch (error) {
    await client.shutdown({ workloads: false }).catch(() => undefined);
    await exited;
    throw error;
  }
}
