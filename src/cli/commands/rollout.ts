import type { Command } from "commander";
import { requireController } from "../api-client.js";
import { type CommonOptions, stateDir, withCommonOptions } from "../context.js";
import { CliError } from "../errors.js";
import { printJson, say, useColor } from "../output.js";
import { apiRolloutSource, followRollout, outcomeError, reportOutcome } from "../rollout-follow.js";
import { outcomeWord, renderRolloutStatus } from "../rollout-view.js";
import { durationOption } from "./wait.js";

interface StatusOptions extends CommonOptions {
  readonly watch: boolean;
  readonly timeout: string;
  readonly json?: boolean;
}

/** `baton rollout <subcommand>`: a group, as in `kubectl rollout status`. */
export function rolloutCommand(program: Command): void {
  const rollout = program
    .command("rollout")
    .description("follow an app's rollout: `baton rollout status APP`");
  withCommonOptions(rollout.command("status <app>"))
    .summary("follow an app's current rollout until it ends")
    .description(
      "follow an app's current rollout until it ends (exit 1 unless it rolls out); else show how the last one ended",
    )
    .option("--no-watch", "show where the rollout stands once, with its last steps")
    .option("--timeout <duration>", "give up following after this long (exit 1)", "5m")
    .option("--json", "the same JSON as GET /api/v1/apps/APP/rollout, once")
    .action(async (app: string, options: StatusOptions) => {
      const timeoutMs = durationOption("--timeout", options.timeout);
      const client = requireController(stateDir(options));
      const source = apiRolloutSource(client);
      if (options.json || !options.watch) {
        const status = await source.status(app);
        if (options.json) return printJson(status);
        say(renderRolloutStatus(status, useColor()));
        // A rollout still going is not a failure yet; one that ended badly is. Its reason and
        // output were printed just above, so the error only names the outcome.
        const record = status.rollout;
        const error = record === null ? undefined : outcomeError(record);
        if (record !== null && error !== undefined) {
          throw new CliError(
            error.code,
            `rollout ${record.id} of ${app} ${outcomeWord(record.state)}`,
            error.hint,
          );
        }
        return;
      }
      reportOutcome(app, await followRollout(source, app, { timeoutMs }), useColor());
    });
}
