/**
 * What a pass over the hosts tells the event log: per resource that differs (`host.drift`)
 * or was put back (`host.healed`), with the fields; a host that could not be reached
 * (`host.unreachable`); a requirement its environment has and it lacks (`host.requirement`).
 * The controller's drift watch and `baton drift` record the same events.
 */
import type { HostSpec, HostsDefinition } from "../definition/index.js";
import type { NewEvent } from "../store/index.js";
import type { HostOutcome } from "./host-run.js";

/**
 * A host's outcome as drift: a command has no state to drift from, so that it would run
 * again is not drift.
 */
export function driftOutcome(o: HostOutcome): HostOutcome {
  return { ...o, resources: o.resources.filter((r) => r.module !== "command") };
}

export function driftEvents(o: HostOutcome, healed: boolean): NewEvent[] {
  if (o.error !== undefined && o.resources.length === 0) {
    return [
      {
        type: "host.unreachable",
        message: `${o.host}: ${o.error.message}`,
        data: { host: o.host, code: o.error.code },
      },
    ];
  }
  const events: NewEvent[] = [];
  for (const r of o.resources) {
    // A command has no state to drift from: that it would run again is not drift.
    if (r.module === "command") continue;
    if (r.status !== "changed" && r.status !== "removed" && r.status !== "failed") continue;
    const fields = r.changes.map((c) => c.field);
    const what =
      r.status === "failed"
        ? `could not be ${healed ? "healed" : "checked"}: ${r.error ?? "failed"}`
        : healed
          ? `drifted (${fields.join(", ")}) and was put back`
          : r.status === "removed"
            ? "is no longer declared but still there"
            : `differs from the definition (${fields.join(", ")})`;
    events.push({
      type: healed && r.status !== "failed" ? "host.healed" : "host.drift",
      message: `${o.host}: ${r.module} ${r.id} ${what}`,
      data: { host: o.host, module: r.module, id: r.id, fields, status: r.status },
    });
  }
  for (const line of o.unmet) {
    events.push({ type: "host.requirement", message: `${o.host} ${line}`, data: { host: o.host } });
  }
  return events;
}

/** The hosts of an environment: its own and those of every environment (no `env:`); all without one. */
export function hostsOfEnvironment(
  hosts: HostsDefinition,
  environment: string | undefined,
): HostSpec[] {
  return Object.values(hosts.hosts).filter(
    (h) => environment === undefined || h.env === undefined || h.env === environment,
  );
}
