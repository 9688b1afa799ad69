/**
 * Metrics that only the controller's events know: restarts per app, and how long the last
 * rollout and pipeline run took. Durations are gauges of the LAST finished one (by app and
 * outcome, by pipeline and state), not histograms: a handful of rollouts a day makes poor
 * buckets, and "how long did the last deploy of api take" is the question asked. Their
 * values are sampled on every tick so they stay current in `GET /metrics`, and are seeded
 * from the store at start so a controller restart neither resets a counter nor forgets them.
 */
import type { Labels, MetricDeclaration, MetricsStore, NewSample } from "../observe/index.js";
import type { EventRecord } from "../store/index.js";

export const EVENT_METRIC_DECLARATIONS: readonly MetricDeclaration[] = [
  {
    name: "baton_replica_restarts_total",
    kind: "counter",
    help: "Replicas of an app that exited or failed to start and were replaced.",
    unit: "",
  },
  {
    name: "baton_rollout_duration_seconds",
    kind: "gauge",
    help: "How long the last finished rollout of an app took, by outcome (rolled-out, rolled-back, failed).",
    unit: "seconds",
  },
  {
    name: "baton_pipeline_run_duration_seconds",
    kind: "gauge",
    help: "How long the last finished run of a pipeline took, by state (passed, failed, cancelled, interrupted).",
    unit: "seconds",
  },
];

const RESTARTS = "baton_replica_restarts_total";
const ROLLOUT = "baton_rollout_duration_seconds";
const PIPELINE = "baton_pipeline_run_duration_seconds";
const ROLLOUT_OUTCOMES: Readonly<Record<string, string>> = {
  "rollout.rolled_out": "rolled-out",
  "rollout.rolled_back": "rolled-back",
  "rollout.failed": "failed",
};
const RUN_END_STATES = new Set(["passed", "failed", "cancelled", "interrupted"]);

export interface EventMetricsOptions {
  /** When a rollout started (ms), by id; undefined when unknown. */
  readonly rolloutStartedAt: (id: number) => number | undefined;
  /** When a run started (ms, else when it was queued) and ended, by id. */
  readonly runTimes: (id: number) => { start: number; end: number | null } | undefined;
}

interface Held {
  readonly labels: Labels;
  value: number;
}

export class EventMetrics {
  private readonly held = new Map<string, Held>();

  constructor(private readonly options: EventMetricsOptions) {}

  /** Picks up where the previous controller left: its last values, however old. */
  seed(store: MetricsStore): void {
    for (const name of [RESTARTS, ROLLOUT, PIPELINE]) {
      for (const series of store.latest({ name, matchers: [] })) {
        const value = series.samples[0]?.value;
        if (value !== undefined && Number.isFinite(value)) this.set(name, series.labels, value);
      }
    }
  }

  /** Called with every event the controller emits. */
  observe(event: EventRecord): void {
    if (
      (event.type === "replica.exited" || event.type === "replica.start_failed") &&
      event.app !== null
    ) {
      this.add(RESTARTS, { app: event.app }, 1);
      return;
    }
    const outcome = ROLLOUT_OUTCOMES[event.type];
    if (outcome !== undefined && event.app !== null) {
      const ms = this.rolloutMs(event);
      if (ms !== undefined) this.set(ROLLOUT, { app: event.app, outcome }, ms / 1000);
      return;
    }
    const runState = event.type.startsWith("run.") ? event.type.slice(4) : "";
    if (RUN_END_STATES.has(runState)) {
      const id = numberField(event.data, "run");
      const pipeline = event.data.pipeline;
      const times = id === undefined ? undefined : this.options.runTimes(id);
      if (typeof pipeline !== "string" || times === undefined) return;
      const ms = (times.end ?? event.at) - times.start;
      this.set(PIPELINE, { pipeline, state: runState }, Math.max(0, ms) / 1000);
    }
  }

  /** Every held value at `at`; apps listed read 0 restarts until their first. */
  samples(at: number, apps: readonly string[]): NewSample[] {
    for (const app of apps) this.add(RESTARTS, { app }, 0);
    return [...this.held.entries()].map(([key, held]) => ({
      name: key.slice(0, key.indexOf("\0")),
      labels: held.labels,
      at,
      value: held.value,
    }));
  }

  private rolloutMs(event: EventRecord): number | undefined {
    const given = numberField(event.data, "durationMs");
    if (given !== undefined && event.type === "rollout.rolled_out") return given;
    const id = numberField(event.data, "rollout");
    const started = id === undefined ? undefined : this.options.rolloutStartedAt(id);
    return started === undefined ? undefined : Math.max(0, event.at - started);
  }

  private set(name: string, labels: Labels, value: number): void {
    const key = keyOf(name, labels);
    const held = this.held.get(key);
    if (held === undefined) this.held.set(key, { labels, value });
    else held.value = value;
  }

  private add(name: string, labels: Labels, delta: number): void {
    const key = keyOf(name, labels);
    const held = this.held.get(key);
    if (held === undefined) this.held.set(key, { labels, value: delta });
    else held.value += delta;
  }
}

function keyOf(name: string, labels: Labels): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`);
  return `${name}\0${sorted.join("\0")}`;
}

function numberField(data: Readonly<Record<string, unknown>>, field: string): number | undefined {
  const value = data[field];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}
