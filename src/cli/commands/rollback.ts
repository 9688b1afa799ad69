import type { Command } from "commander";
import type { RolloutRecord } from "../../api/index.js";
import { runningClientFor } from "../connect.js";
import { type CommonOptions, whoAmI, withCommonOptions } from "../context.js";
import { printJson, say, useColor } from "../output.js";
import {
  clientRolloutSource,
  followRollout,
  outcomeError,
  reportOutcome,
  silentOutput,
} from "../rollout-follow.js";
import { durationOption } from "./wait.js";

interface RollbackOptions extends CommonOptions {
  readonly to?: string;
  readonly wait?: boolean;
  readonly timeout: string;
  readonly json?: boolean;
}

export function rollbackCommand(program: Command): void {
  withCommonOptions(program.command("rollback <app>"))
    .summary("roll an app back to an earlier revision")
    .description(
      "roll an app back to an earlier revision, as a rollout; it holds until the definition changes the app",
    )
    .option(
      "--to <revision>",
      "the revision (or a prefix of it) to go back to; default: the previous one",
    )
    .option("--wait", "follow the rollout until it ends (exit 1 unless it rolls out)")
    .option("--timeout <duration>", "with --wait: give up after this long (exit 1)", "5m")
    .option("--json", "machine-readable result: { rollout }, the final one with --wait")
    .action(async (app: string, options: RollbackOptions) => {
      const timeoutMs = durationOption("--timeout", options.timeout);
      const client = runningClientFor(options);
      const body = await client.rollback(app, options.to, { by: whoAmI() });
      const started = body.rollout;
      if (!options.wait) {
        if (options.json) printJson(body);
        else say(rollingBack(started));
        return;
      }
      if (!options.json) say(rollingBack(started));
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

function rollingBack(record: RolloutRecord): string {
  return `rolling back ${record.app} from ${record.fromRevision ?? "nothing"} to ${record.toRevision} (rollout ${record.id})`;
}
