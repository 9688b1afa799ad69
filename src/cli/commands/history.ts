import type { Command } from "commander";
import { routes } from "../../api/routes.js";
import { appHistory } from "../../apps/history-query.js";
import type { AppHistory } from "../../apps/rollout-types.js";
import { SqliteStore } from "../../store/index.js";
import { findController } from "../api-client.js";
import { type CommonOptions, stateDir, withCommonOptions } from "../context.js";
import { printJson, say, useColor } from "../output.js";
import { renderHistory } from "../rollout-view.js";

export function historyCommand(program: Command): void {
  withCommonOptions(program.command("history <app>"))
    .description("an app's rollouts, newest first; * marks the revision serving now")
    .option("--json", "the same JSON as GET /api/v1/apps/APP/history")
    .action(async (app: string, options: CommonOptions & { json?: boolean }) => {
      const dir = stateDir(options);
      const client = findController(dir);
      const history =
        client === undefined ? historyFromStore(dir, app) : await client.send(routes.history(app));
      if (options.json) return printJson(history);
      say(
        renderHistory(history, {
          color: useColor(),
          // Only a terminal has a width to fit; a pipe gets every reason's whole first line.
          width: process.stdout.isTTY ? process.stdout.columns : undefined,
        }),
      );
    });
}

/** History is a record: it can be read while no controller runs, straight from the store. */
function historyFromStore(dir: string, app: string): AppHistory {
  const store = SqliteStore.open(dir, { create: false });
  try {
    return appHistory(store.rollouts, app);
  } finally {
    store.close();
  }
}
