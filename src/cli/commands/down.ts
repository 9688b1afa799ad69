import { existsSync } from "node:fs";
import type { Command } from "commander";
import { routes } from "../../api/routes.js";
import { stopLeftovers } from "../../apps/leftovers.js";
import { isSameProcess, readProcStat } from "../../util/proc.js";
import { waitUntil } from "../../util/wait.js";
import { findController } from "../api-client.js";
import { type CommonOptions, stateDir, withCommonOptions } from "../context.js";
import { CliError } from "../errors.js";
import { say } from "../output.js";

const DOWN_DEADLINE_MS = 120_000;

export function downCommand(program: Command): void {
  withCommonOptions(program.command("down"))
    .description("stop the controller, the proxy and every replica: nothing is left running")
    .action(async (options: CommonOptions) => {
      const dir = stateDir(options);
      const client = findController(dir);
      if (client !== undefined) {
        const startTicks = readProcStat(client.pid)?.startTicks ?? 0;
        await client.send(routes.shutdown({ workloads: true }));
        const gone = await waitUntil(
          () => !isSameProcess(client.pid, startTicks),
          DOWN_DEADLINE_MS,
          100,
        );
        if (!gone) {
          throw new CliError(
            "down.timeout",
            `the controller (pid ${client.pid}) did not stop within 120s`,
            "see .baton/logs/controller.log",
          );
        }
      }
      // Whatever a dead controller left behind goes too.
      const leftovers = existsSync(dir) ? await stopLeftovers(dir) : 0;
      say(
        client !== undefined || leftovers > 0
          ? "stopped: controller, proxy and replicas"
          : "nothing was running",
      );
    });
}
