import { resolve } from "node:path";
import type { Command } from "commander";
import { type Definition, loadDefinition } from "../../definition/index.js";
import { comparableFacts, compareParity } from "../../hosts/index.js";
import { type CommonOptions, definitionPath, stateDir, withCommonOptions } from "../context.js";
import { CliError } from "../errors.js";
import { gatherHostFacts } from "../host-pass.js";
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
      const dir = stateDir(options);
      const definition = loadDefinition(definitionPath(options), { exclude: [resolve(dir)] });
      const hostsOf = (env: string) => {
        const hosts = Object.values(definition.hosts.hosts).filter((h) => h.env === env);
        if (hosts.length === 0) {
          throw new CliError(
            "parity.no_hosts",
            `no host has \`env: ${env}\``,
            `environments of hosts: ${[...new Set(Object.values(definition.hosts.hosts).flatMap((h) => (h.env === undefined ? [] : [h.env])))].join(", ") || "none"}`,
          );
        }
        return hosts.map((h) => h.name);
      };
      const [leftHosts, rightHosts] = [hostsOf(left), hostsOf(right)];
      const { gathered, failed: failures } = await gatherHostFacts(definition, dir, [
        ...leftHosts,
        ...rightHosts,
      ]);
      const comparable = (names: readonly string[]) =>
        names.flatMap((name) => {
          const g = gathered.get(name);
          return g === undefined ? [] : [comparableFacts(g.facts)];
        });
      const rows = compareParity(
        comparable(leftHosts),
        comparable(rightHosts),
        definition.hosts.parityAllow,
      );
      const failed = Object.fromEntries([...failures].map(([host, f]) => [host, f.message]));
      if (options.json) printJson({ left, right, rows, failed });
      else if (rows.length === 0)
        say(`${left} and ${right}: no difference${allowedNote(definition)}`);
      else {
        say(
          table([
            ["ITEM", left.toUpperCase(), right.toUpperCase()],
            ...rows.map((row) => [row.item, row.left.join(", "), row.right.join(", ")]),
          ]),
        );
        say(`${rows.length} difference${rows.length === 1 ? "" : "s"}${allowedNote(definition)}`);
      }
      for (const [host, message] of Object.entries(failed)) say(`${host}: ${message}`);
      if (Object.keys(failed).length > 0) process.exitCode = 1;
      else if (rows.length > 0) process.exitCode = EXIT_DIFFERENT;
    });
}

function allowedNote(definition: Definition): string {
  const allow = definition.hosts.parityAllow;
  return allow.length === 0 ? "" : ` (allowed: ${allow.join(", ")})`;
}
