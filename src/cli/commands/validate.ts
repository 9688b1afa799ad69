import type { Command } from "commander";
import { loadDefinition } from "../../definition/index.js";
import { type CommonOptions, definitionPath, withCommonOptions } from "../context.js";
import { printJson, say } from "../output.js";

export function validateCommand(program: Command): void {
  withCommonOptions(program.command("validate"))
    .description("check a definition and report every problem at once; changes nothing")
    .option("--json", "machine-readable result")
    .action((options: CommonOptions & { json?: boolean }) => {
      const file = definitionPath(options);
      // Without --env, every environment's policy is checked; with it, that environment's.
      const definition = loadDefinition(
        file,
        options.env === undefined ? { policies: "all" } : { environment: options.env },
      );
      const apps = Object.values(definition.apps);
      if (options.json) {
        printJson({
          valid: true,
          file,
          project: definition.project,
          apps: apps.map((a) => a.name),
        });
        return;
      }
      const summary = apps
        .map((a) => `${a.name} ×${a.replicas}${a.port !== undefined ? ` on :${a.port}` : ""}`)
        .join(", ");
      say(
        `${options.file ?? "baton.yaml"} is valid: ${apps.length} app(s)${summary ? ` (${summary})` : ""}`,
      );
    });
}
