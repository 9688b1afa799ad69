import type { Command } from "commander";
import type { HostFacts } from "../../api/index.js";
import { clientFor } from "../connect.js";
import { withCommonOptions } from "../context.js";
import { type EnvironmentOptions, loadForState } from "../definition.js";
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
      const answer = await clientFor(options).facts(
        targets,
        () => loadForState(options).definition,
      );
      const failed = Object.entries(answer.failed);
      if (options.json) {
        printJson(answer);
      } else {
        const color = useColor();
        const rows = Object.entries(answer.hosts).map(([name, g]) => [name, ...factsRow(g.facts)]);
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
      if (failed.length > 0) process.exitCode = 1;
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
