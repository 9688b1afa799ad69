import { mkdirSync } from "node:fs";
import { Controller } from "../controller/index.js";
import type { Definition } from "../definition/index.js";
import {
  ApiServer,
  apiPortPath,
  ensureApiToken,
  rememberApiPort,
  rememberedApiPort,
} from "../server/index.js";
import type { EventRecord } from "../store/index.js";
import { CliError } from "./errors.js";
import { paint } from "./output.js";

export interface RunControllerOptions {
  readonly stateDir: string;
  readonly definition: Definition;
  readonly appliedBy: string;
  /** Print events as they happen (foreground `baton up`). */
  readonly printEvents: boolean;
  readonly color: boolean;
  /** `--api-port`: remembered for later starts; without it the remembered one, or any. */
  readonly apiPort?: number;
}

/**
 * Runs the controller in this process until it is told to stop. SIGTERM and SIGINT stop the
 * controller only: replicas and the proxy keep serving (a restart or upgrade of the controller
 * must not drop traffic); `baton down` stops everything.
 */
export async function runController(options: RunControllerOptions): Promise<void> {
  mkdirSync(options.stateDir, { recursive: true, mode: 0o700 });
  const token = ensureApiToken(options.stateDir);
  let controller: Controller | undefined;
  let exiting = false;
  const exit = async (workloads: boolean): Promise<void> => {
    if (exiting) return;
    exiting = true;
    await controller?.shutdown({ workloads });
    await server.close();
    if (options.printEvents && !workloads) {
      process.stdout.write(
        "controller stopped; apps keep serving — `baton down` stops them, `baton up` takes them back\n",
      );
    }
    process.exit(0);
  };
  const server = new ApiServer({
    token,
    stateDir: options.stateDir,
    onShutdown: (workloads) => void exit(workloads),
  });
  const port = options.apiPort ?? rememberedApiPort(options.stateDir);
  const api = await server.listen(port).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EADDRINUSE" && error.code !== "EACCES") throw error;
    throw new CliError(
      "up.api_port_in_use",
      `the API cannot listen on 127.0.0.1:${port}: ${error.code === "EACCES" ? "not allowed" : "the port is in use"}`,
      `choose another with \`baton up --api-port PORT\`, or \`--api-port 0\` for any free port (kept in ${apiPortPath(options.stateDir)})`,
    );
  });
  if (options.apiPort !== undefined) rememberApiPort(options.stateDir, options.apiPort);
  try {
    controller = await Controller.start({
      stateDir: options.stateDir,
      definition: options.definition,
      appliedBy: options.appliedBy,
      api,
    });
  } catch (error) {
    await server.close();
    throw error;
  }
  server.attach(controller);
  if (options.printEvents) {
    for (const event of controller.listEvents({ limit: 20 })) printEvent(event, options.color);
    controller.events.subscribe((event) => printEvent(event, options.color));
  }
  process.on("SIGTERM", () => void exit(false));
  process.on("SIGINT", () => void exit(false));
  process.on("SIGHUP", () => void exit(false));
  // Keeps the process alive until one of the exits above.
  await new Promise<never>(() => {});
}

function printEvent(event: EventRecord, color: boolean): void {
  const time = new Date(event.at).toISOString().slice(11, 19);
  const style =
    event.type.endsWith("exited") || event.type.includes("error") || event.type.includes("fail")
      ? "red"
      : "gray";
  process.stdout.write(
    `${paint(time, "gray", color)} ${paint(event.type.padEnd(18), style, color)} ${event.message}\n`,
  );
}
