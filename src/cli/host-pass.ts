/**
 * The CLI's pass over the hosts (plan, apply, drift): the hosts of the chosen environment
 * (those without `env:` belong to every one), connected and worked on from here, with the
 * outcome recorded in the state directory.
 */
import { connectDeclaredHost, gatherFacts, type HostOutcome, runHosts } from "../hosts/index.js";
import type { Definition } from "../spec/index.js";
import { SqliteStore } from "../store/index.js";
import { CliError } from "./errors.js";

export interface HostPassOptions {
  readonly apply: boolean;
  /** Host names, group names or `all`; every host of the environment when absent. */
  readonly targets?: readonly string[];
  /** Only hosts of this environment (and those without one). */
  readonly environment?: string;
  readonly progress?: (outcome: HostOutcome) => void;
}

export function hasHosts(definition: Definition): boolean {
  return Object.keys(definition.hosts.hosts).length > 0;
}

/** The host names that `targets` (host names, group names, `all`) stand for, in inventory order. */
export function selectHosts(
  definition: Definition,
  targets: readonly string[] | undefined,
  environment?: string,
): string[] {
  const hosts = Object.values(definition.hosts.hosts).filter(
    (h) => environment === undefined || h.env === undefined || h.env === environment,
  );
  if (targets === undefined || targets.length === 0) return hosts.map((h) => h.name);
  const unknown = targets.filter(
    (t) => t !== "all" && !hosts.some((h) => h.name === t || h.groups.includes(t)),
  );
  if (unknown.length > 0) {
    const groups = [...new Set(hosts.flatMap((h) => h.groups))];
    throw new CliError(
      "hosts.unknown_target",
      `${unknown.join(", ")}: no such host or group${environment === undefined ? "" : ` in environment ${environment}`}`,
      `hosts: ${hosts.map((h) => h.name).join(", ") || "none"}; groups: ${groups.join(", ") || "none"}`,
    );
  }
  return hosts
    .filter((h) => targets.some((t) => t === "all" || t === h.name || h.groups.includes(t)))
    .map((h) => h.name);
}

export async function hostPass(
  definition: Definition,
  stateDir: string,
  options: HostPassOptions,
): Promise<HostOutcome[]> {
  const only = selectHosts(definition, options.targets, options.environment);
  const store = SqliteStore.open(stateDir, { create: true });
  try {
    return await runHosts({
      hosts: definition.hosts,
      store: store.hosts,
      apply: options.apply,
      only,
      connect: (host) => connectDeclaredHost(host, definition.hosts),
      gatherFacts,
      ...(options.progress === undefined ? {} : { progress: options.progress }),
    });
  } finally {
    store.close();
  }
}
