/**
 * One pass over the hosts: for each (a bounded number at once), what the definition says it
 * must be is compared with what it is — in one round trip — and, when applying, the
 * differences are made in one more (plus one for handlers, when notified). What the
 * definition no longer declares, and Baton had put there, is removed. A host that cannot be
 * reached, or whose run fails, fails alone; the others go on.
 */
import type { HostOutcome, ResourceOutcome, ResourceStatus } from "../api/hosts.js";
import type {
  HostResource,
  HostResourceDecl,
  HostSpec,
  HostsDefinition,
} from "../definition/index.js";
import { resourceIdentity } from "../definition/index.js";
import { observeHost } from "../security/policy/host-observe.js";
import { hostViolations } from "../security/policy/hosts.js";
import type { AppliedHostResource, HostStore } from "../store/index.js";
import {
  type ApplyOutcome,
  applyAll,
  CountingTransport,
  observeAll,
  runHandlers,
} from "./batch.js";
import { HostError } from "./errors.js";
import { type HostFacts, osName } from "./facts.js";
import { moduleFor } from "./modules/index.js";
import { unmetRequirements } from "./requirements.js";
import { needsFacts, renderTemplate, TemplateError } from "./template.js";
import { type Transport, TransportError } from "./transport.js";

export type { HostOutcome, ResourceOutcome, ResourceStatus } from "../api/hosts.js";

export interface HostRunOptions {
  readonly hosts: HostsDefinition;
  readonly store: HostStore;
  readonly apply: boolean;
  /** The hosts to work on (names), all when absent. */
  readonly only?: readonly string[];
  readonly connect: (host: HostSpec) => Promise<Transport>;
  /** Facts gathered for templates that use them (and kept in the store). */
  readonly gatherFacts: (transport: Transport) => Promise<HostFacts>;
  /** A line per host as it finishes, for a terminal. */
  readonly progress?: (outcome: HostOutcome) => void;
  readonly now?: () => number;
}

interface Planned {
  readonly key: string;
  readonly resource: HostResource;
  readonly origin: string;
  /** A removal of something no longer declared. */
  readonly removal: boolean;
  /** The applied resource a removal stands for. */
  readonly applied?: AppliedHostResource;
}

export async function runHosts(options: HostRunOptions): Promise<HostOutcome[]> {
  const names = options.only ?? Object.keys(options.hosts.hosts);
  const hosts = names.map((name) => {
    const host = options.hosts.hosts[name];
    if (host === undefined) {
      throw new HostError(
        "hosts.unknown_host",
        `there is no host named ${JSON.stringify(name)}`,
        `hosts: ${Object.keys(options.hosts.hosts).join(", ") || "none"}`,
      );
    }
    return host;
  });
  const outcomes: HostOutcome[] = new Array(hosts.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < hosts.length; i = next++) {
      const host = hosts[i] as HostSpec;
      const outcome = await runHost(host, options);
      outcomes[i] = outcome;
      options.progress?.(outcome);
    }
  };
  const parallel = Math.max(1, Math.min(options.hosts.ssh.parallel, hosts.length));
  await Promise.all(Array.from({ length: parallel }, worker));
  return outcomes;
}

async function runHost(host: HostSpec, options: HostRunOptions): Promise<HostOutcome> {
  const now = options.now ?? Date.now;
  const started = now();
  let counter: CountingTransport | undefined;
  let transport: Transport | undefined;
  const failed = (error: unknown, resources: ResourceOutcome[] = []): HostOutcome => ({
    host: host.name,
    ok: false,
    error: describe(error),
    resources,
    handlers: [],
    unmet: [],
    roundTrips: counter?.roundTrips ?? 0,
    ms: now() - started,
  });
  try {
    transport = await options.connect(host);
    const counted = new CountingTransport(transport);
    counter = counted;
    const decls = options.hosts.resources[host.name] ?? [];
    const required =
      host.env === undefined ? undefined : options.hosts.environments[host.env]?.require;
    let facts: HostFacts | undefined;
    if (
      required !== undefined ||
      decls.some((d) => d.resource.module === "file" && needsFacts(d.resource.content))
    ) {
      facts = await options.gatherFacts(counted);
      options.store.saveFacts(host.name, facts);
    }
    const unmetIn = (f: HostFacts | undefined): string[] =>
      required === undefined || host.env === undefined || f === undefined
        ? []
        : unmetRequirements(required, { os: osName(f), packages: f.packages }, host.env);
    let unmet = unmetIn(facts);
    const policy =
      host.env === undefined ? undefined : options.hosts.environments[host.env]?.policy;
    const policyIn = async (): Promise<string[]> =>
      policy === undefined || host.env === undefined
        ? []
        : hostViolations(policy, await observeHost(counted, policy), host.env);
    let broken = await policyIn();
    const planned = plannedResources(host, decls, facts, options.store.applied(host.name));
    const handlerDecls = planned.filter(
      (p) => p.resource.module === "command" && p.resource.handler,
    );
    const work = planned.filter((p) => !(p.resource.module === "command" && p.resource.handler));
    const observed = await observeAll(
      counted,
      work.map((p) => ({ key: p.key, resource: p.resource })),
    );
    const changed = work.filter((p) => (observed.get(p.key)?.changes.length ?? 0) > 0);
    const notified = notifiedHandlers(changed, handlerDecls);
    let applied = new Map<string, ApplyOutcome>();
    let handlersRan: string[] = [];
    let handlerFailures: string[] = [];
    if (options.apply && changed.length > 0) {
      applied = await applyAll(
        counted,
        changed.map((p) => {
          const o = observed.get(p.key);
          return {
            key: p.key,
            resource: p.resource,
            changes: o?.changes ?? [],
            results: o?.results ?? new Map(),
          };
        }),
      );
      const allDone = changed.every((p) => applied.get(p.key)?.status === "changed");
      if (allDone && notified.length > 0) {
        const ran = await runHandlers(
          counted,
          notified.flatMap((h) => (h.resource.module === "command" ? [h.resource] : [])),
        );
        handlersRan = [...ran.keys()];
        handlerFailures = [...ran].flatMap(([name, o]) =>
          o.status === "failed" ? [`handler ${name}: ${o.error ?? "failed"}`] : [],
        );
      }
    }
    const resources = work.map((p): ResourceOutcome => {
      const o = observed.get(p.key);
      const changes = o?.changes ?? [];
      const outcome = applied.get(p.key);
      const status: ResourceStatus =
        o?.error !== undefined
          ? "failed"
          : changes.length === 0
            ? "unchanged"
            : outcome === undefined || outcome.status === "changed"
              ? p.removal
                ? "removed"
                : "changed"
              : outcome.status;
      const error = o?.error ?? outcome?.error;
      return {
        module: p.resource.module,
        id: identityOf(p.resource),
        origin: p.origin,
        status,
        changes,
        ...(o?.note === undefined ? {} : { note: o.note }),
        ...(error === undefined ? {} : { error }),
      };
    });
    // What was unmet before may be met now (a package the apply installed): asked again.
    if (options.apply && unmet.length > 0 && applied.size > 0) {
      facts = await options.gatherFacts(counted);
      options.store.saveFacts(host.name, facts);
      unmet = unmetIn(facts);
    }
    // The apply may have changed what a host rule looks at (a sysctl, a package).
    if (options.apply && broken.length > 0 && applied.size > 0) broken = await policyIn();
    const ok =
      handlerFailures.length === 0 &&
      resources.every((r) => r.status !== "failed" && r.status !== "skipped");
    if (options.apply) recordOutcome(options.store, host.name, work, resources);
    return {
      host: host.name,
      ok,
      ...(handlerFailures.length === 0
        ? {}
        : { error: { code: "hosts.handler_failed", message: handlerFailures.join("; ") } }),
      resources,
      unmet: [...unmet, ...broken],
      handlers: options.apply
        ? handlersRan
        : notified.map((h) => (h.resource.module === "command" ? h.resource.name : h.key)),
      roundTrips: counted.roundTrips,
      ms: now() - started,
    };
  } catch (error) {
    return failed(error);
  } finally {
    await transport?.close().catch(() => undefined);
  }
}

/** The host's declared resources, rendered, then the removals of what it no longer declares. */
function plannedResources(
  host: HostSpec,
  decls: readonly HostResourceDecl[],
  facts: unknown,
  applied: readonly AppliedHostResource[],
): Planned[] {
  const planned: Planned[] = decls.map((d) => {
    const resource = render(d, facts);
    return { key: keyOf(resource), resource, origin: d.origin, removal: false };
  });
  const declared = new Set(planned.map((p) => p.key));
  for (const a of applied) {
    const key = `${a.module} ${a.identity}`;
    if (declared.has(key)) continue;
    const spec = a.spec as HostResource;
    if (spec.keep) continue;
    const removal = moduleFor(spec).removal(spec as never) as HostResource | undefined;
    if (removal === undefined) continue;
    planned.push({
      key,
      resource: removal,
      origin: `no longer declared on ${host.name}`,
      removal: true,
      applied: a,
    });
  }
  return planned;
}

function render(decl: HostResourceDecl, facts: unknown): HostResource {
  const r = decl.resource;
  // A secret's value is the content as it is: `{{` in a password is no template.
  if (r.module !== "file" || r.contentSecret !== undefined || !r.content.includes("{{")) return r;
  try {
    return { ...r, content: renderTemplate(r.content, decl.vars, facts) };
  } catch (error) {
    if (error instanceof TemplateError) {
      throw new HostError(
        "hosts.template",
        `${decl.origin} (${r.path}): ${error.message}`,
        "set the variable in the host's, the role's or the file's `vars`",
      );
    }
    throw error;
  }
}

function notifiedHandlers(changed: readonly Planned[], handlers: readonly Planned[]): Planned[] {
  const names = new Set(changed.flatMap((p) => p.resource.notify));
  return handlers.filter((h) => h.resource.module === "command" && names.has(h.resource.name));
}

/** Declared resources now in state are remembered; removed ones forgotten. */
function recordOutcome(
  store: HostStore,
  host: string,
  work: readonly Planned[],
  resources: readonly ResourceOutcome[],
): void {
  const applied: { module: string; identity: string; spec: unknown }[] = [];
  const removed: { module: string; identity: string }[] = [];
  work.forEach((p, i) => {
    const status = resources[i]?.status;
    if (status === "failed" || status === "skipped") return;
    if (p.removal && p.applied !== undefined)
      removed.push({ module: p.applied.module, identity: p.applied.identity });
    else if (!p.removal)
      applied.push({
        module: p.resource.module,
        identity: identityOf(p.resource),
        spec: remembered(p.resource),
      });
  });
  store.record(host, applied, removed);
}

/**
 * What the store keeps of an applied resource: enough to remove it later. A secret file's
 * content is not needed for that, and is not written to the state.
 */
function remembered(resource: HostResource): HostResource {
  if (resource.module !== "file" || !resource.secret) return resource;
  return { ...resource, content: "" };
}

function identityOf(resource: HostResource): string {
  const fields =
    resource.module === "command"
      ? { name: resource.name }
      : (resource as unknown as Record<string, unknown>);
  return resourceIdentity(resource.module, fields) ?? "";
}

function keyOf(resource: HostResource): string {
  return `${resource.module} ${identityOf(resource)}`;
}

function describe(error: unknown): { code: string; message: string; hint?: string } {
  if (error instanceof TransportError || error instanceof HostError) {
    const e = error;
    return { code: e.code, message: e.message, ...(e.hint === undefined ? {} : { hint: e.hint }) };
  }
  return { code: "hosts.failed", message: error instanceof Error ? error.message : String(error) };
}
