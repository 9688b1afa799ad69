import type { Command } from "commander";
import type { HostFacts } from "../../hosts/index.js";
import { withCommonOptions } from "../context.js";
import { type EnvironmentOptions, loadForState } from "../definition.js";
import { gatherHostFacts, selectHosts } from "../host-pass.js";
import { paint, printJson, say, table, useColor } from "../output.js";

export function factsCommand(program: Command): void {
  withCommonOptions(program.command("facts [targets...]"))
    .summary("gather and show what hosts are: OS, kernel, CPUs, memory, packages…")
    .description(
      "gather the facts of hosts (names, groups or `all`; every host when none is named) in one round trip each, keep them in the state with their time, and show them",
    )
    .option(
      "--json",
      "every fact of every host: { hosts: { NAME: { gatheredAt, facts } }, failed: {…} }",
    )
    .action(async (targets: string[], options: EnvironmentOptions & { json?: boolean }) => {
      const { definition, dir } = loadForState(options);
      const names = selectHosts(definition, targets, definition.environment);
      const { gathered, failed } = await gatherHostFacts(definition, dir, names);
      if (options.json) {
        printJson({
          hosts: Object.fromEntries(
            [...gathered].map(([name, g]) => [
              name,
              { gatheredAt: new Date(g.gatheredAt).toISOString(), facts: g.facts },
            ]),
          ),
          failed: Object.fromEntries(failed),
        });
      } else {
        const color = useColor();
        const rows = [...gathered].map(([name, g]) => [name, ...factsRow(g.facts)]);
        if (rows.length > 0) {
          say(
            table([
              ["HOST", "OS", "KERNEL", "ARCH", "CPUS", "MEMORY", "PACKAGES", "LISTENING"],
              ...rows,
            ]),
          );
        }
        for (const [name, e] of failed) {
          say(
            `${paint(name, "bold", color)}: ${paint(`error[${e.code}]`, "red", color)} ${e.message}`,
          );
          if (e.hint) say(`  hint: ${e.hint}`);
        }
      }
      if (failed.size > 0) process.exitCode = 1;
    });
}

function factsRow(f: HostFacts): string[] {
  return [
    f.os.prettyName,
    f.kernel,
    f.architecture,
    String(f.cpus),
    `${Math.round(f.memoryBytes / 1024 / 1024)} MiB`,
    String(Object.keys(f.packages).length),
    // IPv4 and IPv6 sockets of one port are one port to a reader.
    [...new Set(f.listening.map((l) => `${l.protocol}/${l.port}`))].slice(0, 6).join(" "),
  ];
}
