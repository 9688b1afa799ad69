/**
 * One-shot passes over the hosts of a definition — plan, apply, drift, facts, parity — the
 * same functions whether a controller runs them (for the API) or a client does while none
 * runs: the hosts of the chosen environment (those without `env:` belong to every one),
 * connected and worked on, with what they find kept in the state's host store.
 */
import type { FactsAnswer, HostFailure, ParityAnswer } from "../api/hosts.js";
import type { Definition } from "../definition/index.js";
import type { HostStore } from "../store/index.js";
import { HostError } from "./errors.js";
import { comparableFacts, gatherFacts } from "./facts.js";
import { connectDeclaredHost, withHosts } from "./host-pool.js";
import { type HostOutcome, runHosts } from "./host-run.js";
import { selectHosts } from "./host-targets.js";
import { compareParity } from "./parity.js";

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

export function hostPass(
  definition: Definition,
  store: HostStore,
  options: HostPassOptions,
): Promise<HostOutcome[]> {
  const only = selectHosts(definition, options.targets, options.environment);
  return runHosts({
    hosts: definition.hosts,
    store,
    apply: options.apply,
    only,
    connect: (host) => connectDeclaredHost(host, definition.hosts),
    gatherFacts,
    ...(options.progress === undefined ? {} : { progress: options.progress }),
  });
}

/** The facts of these hosts, `ssh.parallel` at once, each kept in the state with its time. */
export async function gatherHostFacts(
  definition: Definition,
  store: HostStore,
  targets: readonly string[],
): Promise<FactsAnswer> {
  const names = selectHosts(definition, targets, definition.environment);
  return factsOf(definition, store, names);
}

async function factsOf(
  definition: Definition,
  store: HostStore,
  names: readonly string[],
): Promise<FactsAnswer> {
  const hosts = names.flatMap((name) => definition.hosts.hosts[name] ?? []);
  const outcomes = await withHosts(
    hosts,
    definition.hosts.ssh,
    definition.hosts.ssh.parallel,
    (transport) => gatherFacts(transport),
    { inventory: Object.values(definition.hosts.hosts) },
  );
  const gathered: Record<string, FactsAnswer["hosts"][string]> = {};
  const failed: Record<string, HostFailure> = {};
  for (const outcome of outcomes) {
    if (outcome.ok) {
      const saved = store.saveFacts(outcome.host, outcome.value);
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
  return { hosts: gathered, failed };
}

/**
 * `baton parity LEFT RIGHT`: the facts of both environments' hosts (their `env:`) gathered
 * now and compared; what `parity.allow` accepts is left out. The inventory is the same in
 * every environment, so the definition needs no overlay.
 */
export async function parityReport(
  definition: Definition,
  store: HostStore,
  left: string,
  right: string,
): Promise<ParityAnswer> {
  const all = Object.values(definition.hosts.hosts);
  const hostsOf = (env: string): string[] => {
    const hosts = all.filter((h) => h.env === env);
    if (hosts.length === 0) {
      const known = [...new Set(all.flatMap((h) => (h.env === undefined ? [] : [h.env])))];
      throw new HostError(
        "parity.no_hosts",
        `no host has \`env: ${env}\``,
        `environments of hosts: ${known.join(", ") || "none"}`,
      );
    }
    return hosts.map((h) => h.name);
  };
  const [leftHosts, rightHosts] = [hostsOf(left), hostsOf(right)];
  const { hosts: gathered, failed } = await factsOf(definition, store, [
    ...leftHosts,
    ...rightHosts,
  ]);
  const comparable = (names: readonly string[]) =>
    names.flatMap((name) => {
      const g = gathered[name];
      return g === undefined ? [] : [comparableFacts(g.facts)];
    });
  const rows = compareParity(
    comparable(leftHosts),
    comparable(rightHosts),
    definition.hosts.parityAllow,
  );
  return {
    left,
    right,
    rows,
    allowed: definition.hosts.parityAllow,
    failed: Object.fromEntries(Object.entries(failed).map(([host, f]) => [host, f.message])),
  };
}
