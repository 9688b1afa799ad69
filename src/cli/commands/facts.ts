import type { Command } from "commander";
import { gatherFacts, type HostFacts, withHosts } from "../../hosts/index.js";
import { SqliteStore } from "../../store/index.js";
import { withCommonOptions } from "../context.js";
import { type EnvironmentOptions, loadForState, withEnvOption } from "../definition.js";
import { selectHosts } from "../host-pass.js";
import { paint, printJson, say, table, useColor } from "../output.js";

export function factsCommand(program: Command): void {
  withEnvOption(withCommonOptions(program.command("facts [targets...]")))
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
      const store = SqliteStore.open(dir, { create: true });
      const gathered: Record<string, { gatheredAt: string; facts: HostFacts }> = {};
      const failed: Record<string, { code: string; message: string; hint?: string }> = {};
      try {
        const hosts = names.flatMap((name) => definition.hosts.hosts[name] ?? []);
        const outcomes = await withHosts(
          hosts,
          definition.hosts.ssh,
          definition.hosts.ssh.parallel,
          (transport) => gatherFacts(transport),
          { inventory: Object.values(definition.hosts.hosts) },
        );
        for (const outcome of outcomes) {
          if (outcome.ok) {
            const saved = store.hosts.saveFacts(outcome.host, outcome.value);
            gathered[outcome.host] = {
              gatheredAt: new Date(saved.gatheredAt).toISOString(),
              facts: outcome.value,
            };
          } else {
            const e = outcome.error as Error & { code?: string; hint?: string };
            failed[outcome.host] = {
              code: e.code ?? "hosts.failed",
              message: e.message,
              ...(e.hint === undefined ? {} : { hint: e.hint }),
            };
          }
        }
      } finally {
        store.close();
      }
      if (options.json) {
        printJson({ hosts: gathered, failed });
      } else {
        const color = useColor();
        const rows = names
          .filter((n) => gathered[n] !== undefined)
          .map((n) => {
            const f = gathered[n]?.facts as HostFacts;
            return [n, ...factsRow(f)];
          });
        if (rows.length > 0) {
          say(
            table([
              ["HOST", "OS", "KERNEL", "ARCH", "CPUS", "MEMORY", "PACKAGES", "LISTENING"],
              ...rows,
            ]),
          );
        }
        for (const [name, e] of Object.entries(failed)) {
          say(
            `${paint(name, "bold", color)}: ${paint(`error[${e.code}]`, "red", color)} ${e.message}`,
          );
          if (e.hint) say(`  hint: ${e.hint}`);
        }
      }
      if (Object.keys(failed).length > 0) process.exitCode = 1;
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
