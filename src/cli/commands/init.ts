import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import type { Command } from "commander";
import { starterDefinition } from "../../definition/index.js";
import { CliError } from "../errors.js";
import { say } from "../output.js";

export function initCommand(program: Command): void {
  program
    .command("init")
    .description("write a starter baton.yaml for the app in the current folder")
    .option("-f, --file <file>", "where to write it", "baton.yaml")
    .option("--state <dir>", "accepted for uniformity; unused")
    .option("--force", "overwrite an existing file")
    .action((options: { file: string; force?: boolean }) => {
      const file = resolve(options.file);
      if (existsSync(file) && !options.force) {
        throw new CliError(
          "init.exists",
          `${options.file} already exists`,
          "use --force to overwrite it",
        );
      }
      const folder = process.cwd();
      let packageJson: { scripts?: Record<string, string>; main?: string } | undefined;
      try {
        packageJson = JSON.parse(readFileSync(resolve(folder, "package.json"), "utf8"));
      } catch {
        packageJson = undefined;
      }
      writeFileSync(file, starterDefinition(basename(folder), packageJson ? { packageJson } : {}));
      say(`wrote ${options.file}; next: \`baton validate\`, then \`baton up\``);
    });
}
