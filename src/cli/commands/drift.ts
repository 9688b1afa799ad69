import type { Command } from "commander";
import { driftEvents, type HostOutcome } from "../../hosts/index.js";
import { SqliteStore } from "../../store/index.js";
import { withCommonOptions } from "../context.js";
import { type EnvironmentOptions, loadForState } from "../definition.js";
import { hostPass } from "../host-pass.js";
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
      const { definition, dir } = loadForState(options);
      const outcomes = await hostPass(definition, dir, {
        apply: false,
        targets,
        ...(definition.environment === undefined ? {} : { environment: definition.environment }),
      });
      // A command has no state to drift from: that it would run again is not drift.
      const drift = outcomes.map((o) => ({
        ...o,
        resources: o.resources.filter((r) => r.module !== "command"),
      }));
      recordDrift(dir, drift);
      if (options.json) printJson({ hosts: hostOutcomesJson(drift) });
      else say(renderHostOutcomes(drift, { color: useColor(), apply: false, drift: true }));
      const drifted =
        drift.some((o) => o.unmet.length > 0) ||
        drift.some((o) =>
          o.resources.some((r) => r.status === "changed" || r.status === "removed"),
        );
      if (outcomes.some((o) => o.error !== undefined)) process.exitCode = 1;
      else if (drifted) process.exitCode = EXIT_DRIFT;
    });
}

/** What differs is recorded as events, as the controller's drift watch records it. */
function recordDrift(dir: string, outcomes: readonly HostOutcome[]): void {
  const store = SqliteStore.open(dir, { create: true });
  try {
    for (const o of outcomes) for (const event of driftEvents(o, false)) store.appendEvent(event);
  } finally {
    store.close();
  }
}
