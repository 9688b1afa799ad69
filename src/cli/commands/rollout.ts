import type { Command } from "commander";
import type { RolloutRecord } from "../../api/index.js";
import { runningClientFor } from "../connect.js";
import { type CommonOptions, whoAmI, withCommonOptions } from "../context.js";
import { CliError } from "../errors.js";
import { printJson, say, useColor } from "../output.js";
import {
  clientRolloutSource,
  followRollout,
  outcomeError,
  reportOutcome,
  silentOutput,
} from "../rollout-follow.js";
import { outcomeWord, renderRolloutStatus } from "../rollout-view.js";
import { durationOption } from "./wait.js";

interface StatusOptions extends CommonOptions {
  readonly watch: boolean;
  readonly timeout: string;
  readonly json?: boolean;
}

interface RetryOptions extends CommonOptions {
  readonly wait?: boolean;
  readonly timeout: string;
  readonly json?: boolean;
}

/** `baton rollout <subcommand>`: a group, as in `kubectl rollout status`. */
export function rolloutCommand(program: Command): void {
  const rollout = program
    .command("rollout")
    .description(
      "follow an app's rollout: `baton rollout status APP`; retry a failed one: `baton rollout retry APP`",
    );
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
      const client = runningClientFor(options);
      const source = clientRolloutSource(client);
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
  withCommonOptions(rollout.command("retry <app>"))
    .summary("roll out again the revision a failed rollout held back")
    .description(
      "roll out again the definition's revision of an app, held back since its rollout failed and was rolled back — once what it lacked (a dependency, a file) is there",
    )
    .option("--wait", "follow the rollout until it ends (exit 1 unless it rolls out)")
    .option("--timeout <duration>", "with --wait: give up after this long (exit 1)", "5m")
    .option("--json", "machine-readable result: { rollout }, the final one with --wait")
    .action(async (app: string, options: RetryOptions) => {
      const timeoutMs = durationOption("--timeout", options.timeout);
      const client = runningClientFor(options);
      const body = await client.retryRollout(app, { by: whoAmI() });
      const started = body.rollout;
      if (!options.json) say(retrying(started));
      if (!options.wait) {
        if (options.json) printJson(body);
        return;
      }
      const ended = await followRollout(clientRolloutSource(client), app, {
        timeoutMs,
        rolloutId: started.id,
        ...(options.json ? { output: silentOutput } : {}),
      });
      if (!options.json) return reportOutcome(app, ended, useColor());
      printJson({ rollout: ended });
      // The JSON says how it ended; the exit code says it to scripts that only check that.
      const error = ended === null ? undefined : outcomeError(ended);
      if (error !== undefined) throw error;
    });
}

function retrying(record: RolloutRecord): string {
  return `retrying ${record.app}: ${record.fromRevision ?? "nothing"} → ${record.toRevision} (rollout ${record.id})`;
}
