/**
 * The controller's metrics loop: every tick (1 s by default) it samples the replicas
 * (process and docker runtimes), the proxy's golden signals, the controller itself and the
 * apps' ready/desired counts, and appends them to the metrics store in one batch; the hosts
 * of its environment are read every 15 s over their transports, each on its own, and their
 * samples go out with the next tick. A collector that fails or is slow costs only its own
 * samples: the tick never throws, never overlaps the previous one, and each distinct
 * failure is reported once as a `metrics.error` event (again only after it went away).
 */

import type { ProxyStats } from "../apps/proxy/index.js";
import type { HostSpec } from "../definition/index.js";
import type { Transport } from "../hosts/transport.js";
import {
  CONTROLLER_METRIC_DECLARATIONS,
  type CollectedSample,
  ControllerMetrics,
  collectHostMetrics,
  collectProxyMetrics,
  collectReplicaMetrics,
  ERROR_RATIO_DECLARATION,
  ErrorRatio,
  HOST_METRIC_DECLARATIONS,
  type MetricDeclaration,
  type MetricsStore,
  PROBE_METRIC_DECLARATIONS,
  PROXY_METRIC_DECLARATIONS,
  probeSamples,
  REPLICA_METRIC_DECLARATIONS,
  type ReplicaProbes,
} from "../observe/index.js";
import type { Driver, Handle } from "../runtime/driver.js";
import type { NewEvent } from "../store/index.js";
import { ControllerError } from "./errors.js";
import { EVENT_METRIC_DECLARATIONS, type EventMetrics } from "./event-metrics.js";

export const APP_METRIC_DECLARATIONS: readonly MetricDeclaration[] = [
  {
    name: "baton_app_desired_replicas",
    kind: "gauge",
    help: "Replicas an app should have (its definition, or `baton scale`).",
    unit: "",
  },
];

/** Every metric the sampler writes, `baton_app_ready_replicas` among the replicas'. */
export const SAMPLER_METRIC_DECLARATIONS: readonly MetricDeclaration[] = [
  ...REPLICA_METRIC_DECLARATIONS,
  ...APP_METRIC_DECLARATIONS,
  ...PROBE_METRIC_DECLARATIONS,
  ERROR_RATIO_DECLARATION,
  ...EVENT_METRIC_DECLARATIONS,
  ...PROXY_METRIC_DECLARATIONS,
  ...CONTROLLER_METRIC_DECLARATIONS,
  ...HOST_METRIC_DECLARATIONS,
];

export const DEFAULT_SAMPLE_INTERVAL_MS = 1_000;
export const DEFAULT_HOST_INTERVAL_MS = 15_000;
const COMPACT_EVERY_MS = 60_000;

export interface LiveReplica {
  readonly handle: Handle;
  readonly ready: boolean;
  /** Its health checks so far, per probe kind. */
  readonly probes: ReplicaProbes["probes"];
}

export interface AppCounts {
  readonly name: string;
  readonly desired: number;
  readonly ready: number;
}

export interface MetricsSamplerOptions {
  readonly store: MetricsStore;
  /** How often to sample, ms; 0 turns sampling off (nothing is appended). */
  readonly intervalMs?: number;
  readonly hostIntervalMs?: number;
  readonly replicas: () => readonly LiveReplica[];
  /** The drivers whose replicas are measured, each through its own `stats`. */
  readonly drivers: { of(handle: Pick<Handle, "driver">): Pick<Driver, "stats"> };
  readonly apps: () => readonly AppCounts[];
  readonly proxy: { stats(): Promise<ProxyStats> };
  readonly events: EventMetrics;
  /** The hosts of the controller's environment, as the applied definition declares them. */
  readonly hosts: () => readonly HostSpec[];
  readonly connect: (host: HostSpec) => Promise<Transport>;
  readonly emit: (event: NewEvent) => void;
  readonly now?: () => number;
}

export class MetricsSampler {
  private interval: number;
  private hostIntervalMs: number;
  private readonly now: () => number;
  private readonly self = new ControllerMetrics();
  private timer: NodeJS.Timeout | undefined;
  private hostTimer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private lastCompact: number;
  /** Host samples that arrived since the last tick. */
  private pendingHosts: CollectedSample[] = [];
  private readonly hostsInFlight = new Set<string>();
  private readonly transports = new Map<string, Transport>();
  /** The error last reported per source, so each is said once. */
  private readonly reported = new Map<string, string>();
  private stopped = false;
  private started = false;
  private readonly errorRatio = new ErrorRatio();

  constructor(private readonly options: MetricsSamplerOptions) {
    this.interval = options.intervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
    this.hostIntervalMs = options.hostIntervalMs ?? DEFAULT_HOST_INTERVAL_MS;
    this.now = options.now ?? Date.now;
    this.lastCompact = this.now();
  }

  /** How often it samples, ms; 0 when sampling is off. */
  get intervalMs(): number {
    return this.interval;
  }

  /** Declares every metric and starts the timers (none when the interval is 0). */
  start(): void {
    for (const d of SAMPLER_METRIC_DECLARATIONS) declare(this.options.store, d);
    this.options.events.seed(this.options.store);
    this.started = true;
    this.startTimers();
  }

  /** New intervals (the definition changed them): the timers start over with them. */
  reconfigure(intervals: { intervalMs: number; hostIntervalMs: number }): void {
    if (
      intervals.intervalMs === this.interval &&
      intervals.hostIntervalMs === this.hostIntervalMs
    ) {
      return;
    }
    this.interval = intervals.intervalMs;
    this.hostIntervalMs = intervals.hostIntervalMs;
    clearInterval(this.timer);
    clearInterval(this.hostTimer);
    if (this.started && !this.stopped) this.startTimers();
  }

  private startTimers(): void {
    if (this.interval <= 0) return;
    this.timer = setInterval(() => void this.tick(), this.interval);
    this.timer.unref();
    this.hostTimer = setInterval(() => this.sampleHosts(), this.hostIntervalMs);
    this.hostTimer.unref();
    this.sampleHosts();
  }

  /** One tick now; resolves when its samples are appended. Skipped while one runs. */
  tick(): Promise<void> {
    if (this.ticking !== undefined || this.stopped) return this.ticking ?? Promise.resolve();
    this.ticking = this.sample()
      .catch((error: unknown) => this.failed("tick", error))
      .finally(() => {
        this.ticking = undefined;
      });
    return this.ticking;
  }

  /** Stops the timers, waits for a tick under way, closes the host connections. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.hostTimer);
    await this.ticking;
    this.self.close();
    const transports = [...this.transports.values()];
    this.transports.clear();
    await Promise.all(transports.map((t) => t.close().catch(() => undefined)));
  }

  private async sample(): Promise<void> {
    const replicas = this.options.replicas();
    const apps = this.options.apps();
    const readyIds = new Set(replicas.filter((r) => r.ready).map((r) => r.handle.id));
    const isReady = (handle: Handle): boolean => readyIds.has(handle.id);
    const timeout = Math.max(this.interval * 2, 2_000);
    const collectors: [string, Promise<CollectedSample[]>][] = [
      ["proxy", collectProxyMetrics(this.options.proxy, this.now)],
    ];
    // One collector per driver, so that one whose backend hangs delays no other's samples.
    const byDriver = new Map<Handle["driver"], Handle[]>();
    for (const { handle } of replicas) {
      byDriver.set(handle.driver, [...(byDriver.get(handle.driver) ?? []), handle]);
    }
    for (const [driver, handles] of byDriver) {
      collectors.push([
        `${driver} replicas`,
        collectReplicaMetrics(this.options.drivers.of({ driver }), handles, {
          isReady,
          now: this.now,
        }),
      ]);
    }
    const results = await Promise.all(
      collectors.map(([source, collecting]) =>
        withTimeout(collecting, timeout, source).then(
          (samples) => {
            this.recovered(source);
            return samples;
          },
          (error: unknown) => {
            this.failed(source, error);
            return [];
          },
        ),
      ),
    );
    const at = this.now();
    const batch: CollectedSample[] = [];
    // The apps' own ready count (desired revision, not stopping) replaces the collector's.
    for (const samples of results) {
      for (const s of samples) if (s.name !== "baton_app_ready_replicas") batch.push(s);
    }
    batch.push(...this.errorRatio.observe(batch, at));
    batch.push(
      ...probeSamples(
        replicas.map((r) => ({ app: r.handle.app, replica: r.handle.id, probes: r.probes })),
        at,
      ),
    );
    for (const app of apps) {
      const labels = { app: app.name };
      batch.push({ name: "baton_app_ready_replicas", labels, at, value: app.ready });
      batch.push({ name: "baton_app_desired_replicas", labels, at, value: app.desired });
    }
    batch.push(
      ...this.options.events.samples(
        at,
        apps.map((a) => a.name),
      ),
    );
    batch.push(...this.self.collect());
    batch.push(...this.pendingHosts);
    this.pendingHosts = [];
    if (this.stopped) return;
    this.options.store.append(batch);
    if (at - this.lastCompact >= COMPACT_EVERY_MS) {
      this.lastCompact = at;
      this.options.store.compact(at);
    }
  }

  /** Starts a reading of each host not still answering the previous one. */
  private sampleHosts(): void {
    let hosts: readonly HostSpec[];
    try {
      hosts = this.options.hosts();
    } catch (error) {
      this.failed("hosts", error);
      return;
    }
    for (const host of hosts) {
      if (this.hostsInFlight.has(host.name) || this.stopped) continue;
      this.hostsInFlight.add(host.name);
      void this.sampleHost(host).finally(() => this.hostsInFlight.delete(host.name));
    }
  }

  private async sampleHost(host: HostSpec): Promise<void> {
    const source = `host ${host.name}`;
    try {
      let transport = this.transports.get(host.name);
      if (transport === undefined) {
        transport = await this.options.connect(host);
        if (this.stopped) {
          await transport.close();
          return;
        }
        this.transports.set(host.name, transport);
      }
      const samples = await collectHostMetrics(transport, {
        now: this.now,
        timeoutMs: this.hostIntervalMs,
      });
      // The inventory name labels the samples, whatever address the transport reached.
      this.pendingHosts.push(
        ...samples.map((s) => ({ ...s, labels: { ...s.labels, host: host.name } })),
      );
      this.recovered(source);
    } catch (error) {
      // A broken connection is opened afresh next time.
      const transport = this.transports.get(host.name);
      this.transports.delete(host.name);
      await transport?.close().catch(() => undefined);
      this.failed(source, error);
    }
  }

  private failed(source: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (this.reported.get(source) === message) return;
    this.reported.set(source, message);
    try {
      this.options.emit({
        type: "metrics.error",
        message: `metrics: sampling ${source} failed: ${message}`,
        data: { source },
      });
    } catch {
      // The event store closing under a last tick: nothing left to tell.
    }
  }

  private recovered(source: string): void {
    this.reported.delete(source);
  }
}

/** The interval from BATON_METRICS_INTERVAL (ms, or a number with ms/s), else the default. */
export function sampleIntervalFromEnv(
  value = process.env.BATON_METRICS_INTERVAL,
): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(value.trim());
  if (match === null) {
    throw new ControllerError(
      "controller.invalid_metrics_interval",
      `BATON_METRICS_INTERVAL=${JSON.stringify(value)} is not an interval`,
      'give milliseconds (1000), "500ms", "2s", or 0 to turn sampling off; unset it for every second',
    );
  }
  const amount = Number(match[1]);
  return Math.round(match[2] === "s" ? amount * 1000 : amount);
}

function declare(store: MetricsStore, d: MetricDeclaration): void {
  if (d.kind !== "histogram") {
    store.declare(d.name, d.kind, d.help, d.unit);
    return;
  }
  // The store knows gauges and counters: a histogram is its three cumulative parts.
  store.declare(`${d.name}_bucket`, "counter", d.help, d.unit);
  store.declare(`${d.name}_sum`, "counter", `${d.help} (sum of observations)`, d.unit);
  store.declare(`${d.name}_count`, "counter", `${d.help} (count of observations)`, "");
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms}ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
