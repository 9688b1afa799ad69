/**
 * The CLI's pass over the hosts (plan, apply, drift): the hosts of the chosen environment
 * (those without `env:` belong to every one), connected and worked on from here, with the
 * outcome recorded in the state directory.
 */

import type { Definition } from "../definition/index.js";
import {
  connectDeclaredHost,
  gatherFacts,
  type HostFacts,
  type HostOutcome,
  runHosts,
  selectHosts,
  withHosts,
} from "../hosts/index.js";
import { SqliteStore } from "../store/index.js";

export { selectHosts };

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

export interface HostFailure {
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
}

export interface GatheredFacts {
  /** By host name, in the order asked. */
  readonly gathered: Map<string, { readonly facts: HostFacts; readonly gatheredAt: number }>;
  readonly failed: Map<string, HostFailure>;
}

/** The facts of these hosts, `ssh.parallel` at once, each kept in the state with its time. */
export async function gatherHostFacts(
  definition: Definition,
  stateDir: string,
  names: readonly string[],
): Promise<GatheredFacts> {
  const hosts = names.flatMap((name) => definition.hosts.hosts[name] ?? []);
  const outcomes = await withHosts(
    hosts,
    definition.hosts.ssh,
    definition.hosts.ssh.parallel,
    (transport) => gatherFacts(transport),
    { inventory: Object.values(definition.hosts.hosts) },
  );
  const result: GatheredFacts = { gathered: new Map(), failed: new Map() };
  const store = SqliteStore.open(stateDir, { create: true });
  try {
    for (const outcome of outcomes) {
      if (outcome.ok) {
        const saved = store.hosts.saveFacts(outcome.host, outcome.value);
        result.gathered.set(outcome.host, { facts: outcome.value, gatheredAt: saved.gatheredAt });
      } else {
        const e = outcome.error as Error & { code?: string; hint?: string };
        result.failed.set(outcome.host, {
          code: e.code ?? "hosts.failed",
          message: e.message,
          ...(e.hint === undefined ? {} : { hint: e.hint }),
        });
      }
    }
  } finally {
    store.close();
  }
  return result;
}
