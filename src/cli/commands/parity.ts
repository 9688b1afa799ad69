import { resolve } from "node:path";
import type { Command } from "commander";
import { loadDefinition } from "../../definition/index.js";
import { clientFor } from "../connect.js";
import { type CommonOptions, definitionPath, stateDir, withCommonOptions } from "../context.js";
import { printJson, say, table } from "../output.js";

/** Exit codes: 0 the environments match (allowed differences aside), 2 they differ. */
const EXIT_DIFFERENT = 2;

export function parityCommand(program: Command): void {
  withCommonOptions(program.command("parity <left> <right>"))
    .summary(
      "compare the hosts of two environments: OS, kernel, packages, libraries, drivers, sysctl",
    )
    .description(
      "gather the facts of the hosts of two environments (hosts' `env:`) and print what differs, leaving out what `parity.allow` accepts. Exit 0: alike; 2: they differ; 1: a host could not be reached",
    )
    .option("--json", "{ left, right, rows: [{ item, left: [values], right: [values] }], failed }")
    .action(async (left: string, right: string, options: CommonOptions & { json?: boolean }) => {
      // The inventory is the same in every environment: no overlay to choose.
      const answer = await clientFor(options).parity(left, right, () =>
        loadDefinition(definitionPath(options), { exclude: [resolve(stateDir(options))] }),
      );
      const { rows, failed } = answer;
      const allowed = answer.allowed.length === 0 ? "" : ` (allowed: ${answer.allowed.join(", ")})`;
      if (options.json) printJson({ left, right, rows, failed });
      else if (rows.length === 0) say(`${left} and ${right}: no difference${allowed}`);
      else {
        say(
          table([
            ["ITEM", left.toUpperCase(), right.toUpperCase()],
            ...rows.map((row) => [row.item, row.left.join(", "), row.right.join(", ")]),
          ]),
        );
        say(`${rows.length} difference${rows.length === 1 ? "" : "s"}${allowed}`);
      }
      for (const [host, message] of Object.entries(failed)) say(`${host}: ${message}`);
      if (Object.keys(failed).length > 0) process.exitCode = 1;
      else if (rows.length > 0) process.exitCode = EXIT_DIFFERENT;
    });
}
