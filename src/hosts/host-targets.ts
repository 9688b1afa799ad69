import type { Definition } from "../definition/index.js";
import { hostsOfEnvironment } from "./drift-events.js";
import { HostError } from "./errors.js";

/**
 * The host names that `targets` (host names, group names, `all`) stand for, in inventory
 * order; every host of the environment when none is given. What `baton plan`, `apply`,
 * `drift` and `facts` take, with a controller or without.
 */
export function selectHosts(
  definition: Definition,
  targets: readonly string[] | undefined,
  environment?: string,
): string[] {
  const hosts = hostsOfEnvironment(definition.hosts, environment);
  if (targets === undefined || targets.length === 0) return hosts.map((h) => h.name);
  const unknown = targets.filter(
    (t) => t !== "all" && !hosts.some((h) => h.name === t || h.groups.includes(t)),
  );
  if (unknown.length > 0) {
    const groups = [...new Set(hosts.flatMap((h) => h.groups))];
    throw new HostError(
      "hosts.unknown_target",
      `${unknown.join(", ")}: no such host or group${environment === undefined ? "" : ` in environment ${environment}`}`,
      `hosts: ${hosts.map((h) => h.name).join(", ") || "none"}; groups: ${groups.join(", ") || "none"}`,
    );
  }
  return hosts
    .filter((h) => targets.some((t) => t === "all" || t === h.name || h.groups.includes(t)))
    .map((h) => h.name);
}
