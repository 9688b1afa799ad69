import type { Command } from "commander";
import { clientFor } from "../connect.js";
import { type CommonOptions, withCommonOptions } from "../context.js";
import { say } from "../output.js";

export function downCommand(program: Command): void {
  withCommonOptions(program.command("down"))
    .description("stop the controller, the proxy and every replica: nothing is left running")
    .action(async (options: CommonOptions) => {
      // A running controller stops with everything it runs; whatever a dead controller left
      // behind (processes, containers, the proxy, Swarm services) goes too.
      const { controller, leftovers } = await clientFor(options).down();
      say(
        controller || leftovers > 0
          ? "stopped: controller, proxy and replicas"
          : "nothing was running",
      );
    });
}
