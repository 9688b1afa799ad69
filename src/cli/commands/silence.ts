import type { Command } from "commander";
import { renderSilences } from "../alert-view.js";
import { runningClientFor } from "../connect.js";
import { type CommonOptions, whoAmI, withCommonOptions } from "../context.js";
import { printJson, say } from "../output.js";

export function silenceCommand(program: Command): void {
  const silence = program
    .command("silence")
    .description("mute notifications of matching alerts for a while (they still change state)");
  withCommonOptions(silence.command("add <matchers...>"))
    .description(
      "silence alerts: each argument is an alert name (crash-loop) or a matcher (app=api, alertname=~disk.*); all must match",
    )
    .requiredOption("--for <duration>", "how long, e.g. 2h or 30m")
    .option("--comment <text>", "why, for whoever looks later", "")
    .option("--json", "{ silence }")
    .action(
      async (
        matchers: string[],
        options: CommonOptions & { for: string; comment: string; json?: boolean },
      ) => {
        const body = await runningClientFor(options).addSilence({
          matchers,
          for: options.for,
          comment: options.comment,
          by: whoAmI(),
        });
        if (options.json) return printJson(body);
        const added = body.silence;
        say(`silence ${added.id} until ${new Date(added.until).toISOString()}`);
      },
    );
  withCommonOptions(silence.command("ls"))
    .description("the silences in force")
    .option("--json", "{ silences }")
    .action(async (options: CommonOptions & { json?: boolean }) => {
      const body = await runningClientFor(options).silences();
      if (options.json) return printJson(body);
      say(renderSilences(body.silences, Date.now()));
    });
  withCommonOptions(silence.command("rm <id>"))
    .description("end a silence now")
    .action(async (id: string, options: CommonOptions) => {
      await runningClientFor(options).removeSilence(id, { by: whoAmI() });
      say(`silence ${id} removed`);
    });
}
