import type { Command } from "commander";
import { listRuns, type RunsAnswer } from "../../delivery/runs-query.js";
import { SqliteStore } from "../../store/index.js";
import { findController } from "../api-client.js";
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
      async (
        pipeline: string | undefined,
        options: CommonOptions & { limit: string; json?: boolean },
      ) => {
        const limit = Math.max(1, Number.parseInt(options.limit, 10) || 10);
        const answer = await runs(stateDir(options), pipeline, limit);
        if (options.json) printJson(answer);
        else say(renderRuns(answer.runs, { color: useColor(), now: Date.now() }));
      },
    );
}

/** Runs are a record: the controller's answer, else the same read straight from the store. */
async function runs(dir: string, pipeline: string | undefined, limit: number): Promise<RunsAnswer> {
  const client = findController(dir);
  if (client !== undefined) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (pipeline !== undefined) query.set("pipeline", pipeline);
    return client.answer<RunsAnswer>("GET", `/api/v1/runs?${query}`);
  }
  const store = SqliteStore.open(dir, { create: true });
  try {
    return listRuns(store.runs, pipeline, limit);
  } finally {
    store.close();
  }
}
