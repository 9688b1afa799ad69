import type { Command } from "commander";
import { SqliteStore } from "../../store/index.js";
import { type CommonOptions, stateDir, withCommonOptions } from "../context.js";
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
      (
        pipeline: string | undefined,
        options: CommonOptions & { limit: string; json?: boolean },
      ) => {
        const store = SqliteStore.open(stateDir(options), { create: true });
        try {
          const limit = Math.max(1, Number.parseInt(options.limit, 10) || 10);
          const runs = store.runs
            .list(pipeline, limit)
            .map((run) => ({ run, steps: store.runs.steps(run.id) }));
          if (options.json) printJson({ runs });
          else say(renderRuns(runs, { color: useColor(), now: Date.now() }));
        } finally {
          store.close();
        }
      },
    );
}
