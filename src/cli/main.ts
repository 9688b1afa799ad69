#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { isUserError } from "./errors.js";
import { paint, useColor } from "./output.js";

type Register = (program: Command) => void;

/**
 * Each command's module, loaded only when that command runs: a CLI that answers `status` in
 * a blink should not first load the YAML schema, SQLite and the controller.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  init: async () => (await import("./commands/init.js")).initCommand,
  validate: async () => (await import("./commands/validate.js")).validateCommand,
  schema: async () => (await import("./commands/schema.js")).schemaCommand,
  plan: async () => (await import("./commands/plan.js")).planCommand,
  up: async () => (await import("./commands/up.js")).upCommand,
  apply: async () => (await import("./commands/apply.js")).applyCommand,
  wait: async () => (await import("./commands/wait.js")).waitCommand,
  status: async () => (await import("./commands/status.js")).statusCommand,
  logs: async () => (await import("./commands/logs.js")).logsCommand,
  scale: async () => (await import("./commands/scale.js")).scaleCommand,
  history: async () => (await import("./commands/history.js")).historyCommand,
  rollout: async () => (await import("./commands/rollout.js")).rolloutCommand,
  rollback: async () => (await import("./commands/rollback.js")).rollbackCommand,
  down: async () => (await import("./commands/down.js")).downCommand,
  build: async () => (await import("./commands/build.js")).buildCommand,
  releases: async () => (await import("./commands/releases.js")).releasesCommand,
  deploy: async () => (await import("./commands/deploy.js")).deployCommand,
  facts: async () => (await import("./commands/facts.js")).factsCommand,
  drift: async () => (await import("./commands/drift.js")).driftCommand,
  parity: async () => (await import("./commands/parity.js")).parityCommand,
  runs: async () => (await import("./commands/runs.js")).runsCommand,
  run: async () => (await import("./commands/run.js")).runCommand,
  approve: async () => (await import("./commands/approve.js")).approveCommand,
  hooks: async () => (await import("./commands/hooks.js")).hooksCommand,
  metrics: async () => (await import("./commands/metrics.js")).metricsCommand,
  query: async () => (await import("./commands/query.js")).queryCommand,
  top: async () => (await import("./commands/top.js")).topCommand,
  alerts: async () => (await import("./commands/alerts.js")).alertsCommand,
  silence: async () => (await import("./commands/silence.js")).silenceCommand,
  token: async () => (await import("./commands/token.js")).tokenCommand,
  audit: async () => (await import("./commands/audit.js")).auditCommand,
  secret: async () => (await import("./commands/secret.js")).secretCommand,
};

/** Exit codes: 0 done, 1 the user's input or the world said no, 2 usage, 70 a bug in Baton. */
const EXIT_USER = 1;
const EXIT_USAGE = 2;
const EXIT_BUG = 70;

async function program(argv: readonly string[]): Promise<Command> {
  const root = new Command("baton")
    .description("Baton keeps apps, hosts and pipelines equal to one definition")
    .version("0.1.0")
    .showHelpAfterError()
    .exitOverride();
  const invoked = argv[2];
  const loaders =
    invoked !== undefined && COMMANDS[invoked] !== undefined
      ? [COMMANDS[invoked]]
      : Object.values(COMMANDS); // help, or an unknown command: list them all
  for (const load of loaders) (await load())(root);
  for (const command of root.commands) command.exitOverride();
  return root;
}

function report(error: unknown): number {
  const color = useColor(process.stderr);
  const write = (text: string): void => void process.stderr.write(`${text}\n`);
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (error instanceof Error && error.name === "SpecError" && "format" in error) {
    write((error as Error & { format(o: { color: boolean }): string }).format({ color }));
    return EXIT_USER;
  }
  if (isUserError(error)) {
    write(`${paint(`error[${error.code}]`, "red", color)} ${error.message}`);
    if (error.hint) write(`  hint: ${error.hint}`);
    return error.exitCode;
  }
  write(`${paint("bug", "red", color)}: ${error instanceof Error ? error.stack : String(error)}`);
  write("This is a bug in Baton, not in your definition; please report it with the lines above.");
  return EXIT_BUG;
}

// A reader that stopped reading (`baton logs | head`) is no error: stop quietly, as cat does.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

try {
  await (await program(process.argv)).parseAsync(process.argv);
} catch (error) {
  process.exitCode = report(error);
}
