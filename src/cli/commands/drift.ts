import type { Command } from "commander";
import { clientFor } from "../connect.js";
import { withCommonOptions } from "../context.js";
import { type EnvironmentOptions, loadForState } from "../definition.js";
import { hostOutcomesJson, renderHostOutcomes } from "../host-view.js";
import { printJson, say, useColor } from "../output.js";

/** Exit codes: 0 every host as defined, 2 drift found, 1 a host could not be checked. */
const EXIT_DRIFT = 2;

export function driftCommand(program: Command): void {
  withCommonOptions(program.command("drift [targets...]"))
    .summary(
      "find every difference between the definition and the hosts (exit 2 when there is drift)",
    )
    .description(
      "compare each host (names, groups or `all`; those of the environment when none is named) with the definition, per resource and field, and record what differs as events; changes nothing. Exit 0: as defined; 2: drift; 1: a host could not be checked",
    )
    .option("--json", "per host: changed (drifted), removed (left over), unchanged, failed")
    .action(async (targets: string[], options: EnvironmentOptions & { json?: boolean }) => {
      // A running controller checks through its drift watch (its events reach the event stream
      // and fire the `drift` alert); with none, the hosts are checked from here and what
      // differs is recorded as the drift watch records it.
      const drift = await clientFor(options).drift(targets, () => loadForState(options).definition);
      if (options.json) printJson({ hosts: hostOutcomesJson(drift) });
      else say(renderHostOutcomes(drift, { color: useColor(), apply: false, drift: true }));
      const drifted =
        drift.some((o) => o.unmet.length > 0) ||
        drift.some((o) =>
          o.resources.some((r) => r.status === "changed" || r.status === "removed"),
        );
      if (drift.some((o) => o.error !== undefined)) process.exitCode = 1;
      else if (drifted) process.exitCode = EXIT_DRIFT;
    });
}
