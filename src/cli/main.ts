#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { ControllerError } from "../controller/index.js";
import { SpecError } from "../spec/index.js";
import { StateError } from "../store/index.js";
import { applyCommand } from "./commands/apply.js";
import { downCommand } from "./commands/down.js";
import { initCommand } from "./commands/init.js";
import { logsCommand } from "./commands/logs.js";
import { planCommand } from "./commands/plan.js";
import { scaleCommand } from "./commands/scale.js";
import { schemaCommand } from "./commands/schema.js";
import { statusCommand } from "./commands/status.js";
import { upCommand } from "./commands/up.js";
import { validateCommand } from "./commands/validate.js";
import { waitCommand } from "./commands/wait.js";
import { CliError } from "./errors.js";
import { paint, useColor } from "./output.js";

/** Exit codes: 0 done, 1 the user's input or the world said no, 2 usage, 70 a bug in Baton. */
const EXIT_USER = 1;
const EXIT_USAGE = 2;
const EXIT_BUG = 70;

function program(): Command {
  const root = new Command("baton")
    .description("Baton keeps apps, hosts and pipelines equal to one definition")
    .version("0.1.0")
    .showHelpAfterError()
    .exitOverride();
  for (const register of [
    initCommand,
    validateCommand,
    schemaCommand,
    planCommand,
    upCommand,
    applyCommand,
    waitCommand,
    statusCommand,
    logsCommand,
    scaleCommand,
    downCommand,
  ]) {
    register(root);
  }
  for (const command of root.commands) command.exitOverride();
  return root;
}

function report(error: unknown): number {
  const color = useColor(process.stderr);
  const write = (text: string): void => void process.stderr.write(`${text}\n`);
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (error instanceof SpecError) {
    write(error.format({ color }));
    return EXIT_USER;
  }
  if (
    error instanceof CliError ||
    error instanceof ControllerError ||
    error instanceof StateError
  ) {
    write(`${paint(`error[${error.code}]`, "red", color)} ${error.message}`);
    if (error.hint) write(`  hint: ${error.hint}`);
    return error instanceof CliError ? error.exitCode : EXIT_USER;
  }
  write(`${paint("bug", "red", color)}: ${error instanceof Error ? error.stack : String(error)}`);
  write("This is a bug in Baton, not in your definition; please report it with the lines above.");
  return EXIT_BUG;
}

try {
  await program().parseAsync(process.argv);
} catch (error) {
  process.exitCode = report(error);
}
