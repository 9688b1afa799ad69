import { spawn } from "node:child_process";
import { mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { shipDefinition } from "../../client/content.js";
import { rememberApiPort } from "../../server/index.js";
import { delay } from "../../util/wait.js";
import { findController } from "../api-client.js";
import { buildMissingReleases } from "../build-first.js";
import { whoAmI, withCommonOptions } from "../context.js";
import { runController } from "../controller-process.js";
import { type EnvironmentOptions, loadForState } from "../definition.js";
import { CliError } from "../errors.js";
import { say, useColor } from "../output.js";
import { type PlanJson, renderPlanJson } from "../plan-view.js";

const DETACH_DEADLINE_MS = 60_000;

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
      await buildMissingReleases(definition, dir);
      const running = findController(dir);
      if (running !== undefined) {
        // Like `docker compose up` on a running project: hand over the definition.
        const body = await running.call(
          "POST",
          "/api/v1/apply",
          await shipDefinition(definition, running.blobs(), { stateDir: dir, appliedBy: whoAmI() }),
        );
        say(renderPlanJson(body.plan as PlanJson, useColor()));
        say(`a controller already runs (pid ${running.pid}); definition applied`);
        if (apiPort !== undefined && `http://127.0.0.1:${apiPort}` !== running.api) {
          rememberApiPort(dir, apiPort);
          say(
            `its API stays on ${running.api} until it restarts; then --api-port ${apiPort} holds`,
          );
        }
        return;
      }
      if (options.detach) return detach(definition.file, dir, definition.environment, apiPort);
      await runController({
        stateDir: dir,
        definition,
        appliedBy: whoAmI(),
        printEvents: true,
        color: useColor(),
        ...(apiPort === undefined ? {} : { apiPort }),
      });
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

async function detach(
  file: string,
  dir: string,
  environment: string | undefined,
  apiPort: number | undefined,
): Promise<void> {
  mkdirSync(join(dir, "logs"), { recursive: true, mode: 0o700 });
  const logFile = join(dir, "logs", "controller.log");
  const log = openSync(logFile, "a", 0o600);
  const entry = process.argv[1];
  if (entry === undefined) throw new Error("cannot find the baton entry script");
  const args = [entry, "up", "-f", file, "--state", dir];
  if (environment !== undefined) args.push("--env", environment);
  if (apiPort !== undefined) args.push("--api-port", String(apiPort));
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ["ignore", log, log],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let exited: number | null | undefined;
  child.once("exit", (code) => {
    exited = code;
  });
  child.unref();
  const deadline = Date.now() + DETACH_DEADLINE_MS;
  while (Date.now() < deadline) {
    if (exited !== undefined) break;
    const client = findController(dir);
    if (client !== undefined && client.pid === child.pid) {
      const answer = await client.get("/api/v1/status").catch(() => undefined);
      if (answer?.status === 200) {
        say(
          `controller started in the background (pid ${client.pid}, ${client.api}); log: ${logFile}`,
        );
        say("`baton status` shows the apps, `baton wait` waits until they are ready");
        return;
      }
    }
    await delay(50);
  }
  const tail = readFileSync(logFile, "utf8").split("\n").slice(-15).join("\n");
  throw new CliError(
    "up.failed",
    exited !== undefined
      ? `the controller exited (code ${exited}) before its API answered`
      : "the controller did not answer within 60s",
    `its log (${logFile}) ends with:\n${tail}`,
  );
}
