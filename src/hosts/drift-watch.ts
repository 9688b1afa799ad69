/**
 * The controller's eye on its hosts: every environment's hosts are compared with the
 * definition on that environment's `driftInterval`, what differs is recorded as events
 * (`host.drift`, per resource and field), and an environment with `heal: true` has it
 * corrected (`host.healed`). `baton apply` configures the hosts through it too, so that one
 * pass at a time ever works on a host: a check that is still running when the next is due
 * is not doubled, and an apply waits for it.
 */
import type { Definition, HostSpec } from "../definition/index.js";
import type { HostStore, NewEvent } from "../store/index.js";
import { driftEvents, driftOutcome, hostsOfEnvironment } from "./drift-events.js";
import type { HostFacts } from "./facts.js";
import { type HostOutcome, runHosts } from "./host-run.js";
import type { Transport } from "./transport.js";

export interface DriftWatchOptions {
  readonly store: HostStore;
  readonly emit: (event: NewEvent) => void;
  readonly connect: (host: HostSpec, definition: Definition) => Promise<Transport>;
  readonly gatherFacts: (transport: Transport) => Promise<HostFacts>;
}

/** Hosts without `env:` are checked on this interval (an environment may say another). */
const DEFAULT_INTERVAL_MS = 5 * 60_000;
const NO_ENVIRONMENT = "";

export class DriftWatch {
  private definition: Definition | undefined;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  /** The end of the last pass queued: passes run one after the other. */
  private tail: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: DriftWatchOptions) {}

  /** The definition to hold the hosts to (after each apply); timers follow its intervals. */
  update(definition: Definition): void {
    const first = this.definition === undefined;
    this.definition = definition;
    for (const timer of this.timers.values()) clearInterval(timer);
    this.timers.clear();
    if (this.stopped) return;
    // A controller runs one environment: its hosts, and those that belong to every one.
    const envs = new Set(ownHosts(definition).map((h) => h.env ?? NO_ENVIRONMENT));
    for (const env of envs) {
      const interval = definition.hosts.environments[env]?.driftIntervalMs ?? DEFAULT_INTERVAL_MS;
      const timer = setInterval(() => void this.check(env), interval);
      timer.unref();
      this.timers.set(env, timer);
      // A controller that starts learns at once where its hosts stand (and heals them).
      if (first) void this.check(env);
    }
  }

  /** One pass over an environment's hosts now (`""`: those without `env:`); resolves when done. */
  check(env: string): Promise<void> {
    const current = this.running.get(env);
    if (current !== undefined) return current;
    const pass = this.serial(() => this.pass(env))
      .catch((error: unknown) =>
        // Timers and the first check do not wait on it: a failed pass is an event, not a crash.
        this.options.emit({
          type: "host.failed",
          message: `checking the hosts${env === NO_ENVIRONMENT ? "" : ` of ${env}`} failed: ${(error as Error).message}`,
        }),
      )
      .finally(() => this.running.delete(env));
    this.running.set(env, pass);
    return pass;
  }

  /**
   * Configures every host of the controller's environment now (after whatever pass runs),
   * and records what it did as events; resolves with each host's outcome.
   */
  applyNow(): Promise<HostOutcome[]> {
    return this.serial(async () => {
      const definition = this.definition;
      if (definition === undefined || this.stopped) return [];
      const outcomes = await runHosts({
        hosts: definition.hosts,
        store: this.options.store,
        apply: true,
        only: ownHosts(definition).map((h) => h.name),
        connect: (host) => this.options.connect(host, definition),
        gatherFacts: this.options.gatherFacts,
      });
      for (const o of outcomes) this.reportApply(o);
      return outcomes;
    });
  }

  /**
   * `baton drift` while the controller runs: these hosts compared with the applied definition
   * now (after whatever pass runs, never beside one), changing nothing. What differs is
   * recorded as the watch's own checks record it — events, through which alerts fire.
   * Resolves with each host's outcome as drift.
   */
  checkNow(only: readonly string[]): Promise<HostOutcome[]> {
    return this.serial(async () => {
      const definition = this.definition;
      if (definition === undefined || this.stopped) return [];
      const outcomes = await runHosts({
        hosts: definition.hosts,
        store: this.options.store,
        apply: false,
        only,
        connect: (host) => this.options.connect(host, definition),
        gatherFacts: this.options.gatherFacts,
      });
      for (const o of outcomes) this.report(o, false);
      return outcomes.map(driftOutcome);
    });
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.tail.then(work, work);
    this.tail = next.catch(() => undefined);
    return next;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearInterval(timer);
    this.timers.clear();
    await Promise.all(this.running.values());
  }

  private async pass(env: string): Promise<void> {
    const definition = this.definition;
    if (definition === undefined || this.stopped) return;
    const only = Object.values(definition.hosts.hosts)
      .filter((h) => (h.env ?? NO_ENVIRONMENT) === env)
      .map((h) => h.name);
    if (only.length === 0) return;
    const heal = definition.hosts.environments[env]?.heal === true;
    const outcomes = await runHosts({
      hosts: definition.hosts,
      store: this.options.store,
      apply: heal,
      only,
      connect: (host) => this.options.connect(host, definition),
      gatherFacts: this.options.gatherFacts,
    });
    for (const o of outcomes) this.report(o, heal);
  }

  private reportApply(o: HostOutcome): void {
    if (o.error !== undefined && o.resources.length === 0) {
      this.report(o, false);
      return;
    }
    const count = (status: string) => o.resources.filter((r) => r.status === status).length;
    this.options.emit({
      type: o.ok ? "host.applied" : "host.failed",
      message: `${o.host}: ${count("changed")} changed, ${count("removed")} removed, ${count("unchanged")} unchanged${
        o.ok
          ? ""
          : `, ${count("failed")} failed${o.error === undefined ? "" : ` (${o.error.message})`}`
      }`,
      data: { host: o.host, changed: count("changed"), failed: count("failed") },
    });
  }

  private report(o: HostOutcome, healed: boolean): void {
    for (const event of driftEvents(o, healed)) this.options.emit(event);
  }
}

/** The hosts a controller holds: those of its environment, and those of every environment. */
function ownHosts(definition: Definition): HostSpec[] {
  return hostsOfEnvironment(definition.hosts, definition.environment);
}
