import type { Command } from "commander";
import { clientFor } from "../connect.js";
import { type CommonOptions, withCommonOptions } from "../context.js";
import { printJson, say, useColor } from "../output.js";
import { renderRuns } from "../run-view.js";

export function runsCommand(program: Command): void {
  withCommonOptions(program.command("runs [pipeline]"))
    .description(
      "pipeline runs, newest first, with each step's state, duration and the failing tests' names; works with no controller running",
    )
    .option("-n, --limit <count>", "how many runs", "10")
    .option("--json", "{ runs: [{ run, steps }] }")
    .action(
      async (
        pipeline: string | undefined,
        options: CommonOptions & { limit: string; json?: boolean },
      ) => {
        const limit = Math.max(1, Number.parseInt(options.limit, 10) || 10);
        // Runs are a record: the controller's answer, else the same read of the store.
        const answer = await clientFor(options).runs({
          limit,
          ...(pipeline === undefined ? {} : { pipeline }),
        });
        if (options.json) printJson(answer);
        else say(renderRuns(answer.runs, { color: useColor(), now: Date.now() }));
      },
    );
}
