/**
 * The controller's own health: CPU, memory and event-loop lag. Lag is what an overloaded
 * controller shows first (health checks and proxy updates late), so it is sampled as the
 * p99 and the maximum since the previous sample.
 */
import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import type { CollectedSample, MetricDeclaration } from "./collected.js";

export const CONTROLLER_METRIC_DECLARATIONS: readonly MetricDeclaration[] = [
  {
    name: "baton_controller_cpu_seconds_total",
    kind: "counter",
    help: "CPU time used by the controller process, mode=user|system.",
    unit: "seconds",
  },
  {
    name: "baton_controller_resident_memory_bytes",
    kind: "gauge",
    help: "Resident memory of the controller process.",
    unit: "bytes",
  },
  {
    name: "baton_controller_heap_bytes",
    kind: "gauge",
    help: "V8 heap of the controller, kind=used|total.",
    unit: "bytes",
  },
  {
    name: "baton_controller_event_loop_lag_seconds",
    kind: "gauge",
    help: "How late the controller's event loop ran timers since the previous sample, stat=p99|max.",
    unit: "seconds",
  },
  {
    name: "baton_controller_start_time_seconds",
    kind: "gauge",
    help: "When the controller process started (Unix time).",
    unit: "seconds",
  },
];

export interface ControllerMetricsOptions {
  /** Clock for the samples' time; Date.now by default. */
  readonly now?: () => number;
  /** How often the loop is probed, ms (monitorEventLoopDelay's resolution); 20 by default. */
  readonly resolutionMs?: number;
}

export class ControllerMetrics {
  private readonly delay: IntervalHistogram;
  private readonly now: () => number;
  private readonly resolutionNs: number;
  private readonly startedAt: number;

  constructor(options: ControllerMetricsOptions = {}) {
    this.now = options.now ?? Date.now;
    const resolution = options.resolutionMs ?? 20;
    this.resolutionNs = resolution * 1e6;
    this.delay = monitorEventLoopDelay({ resolution });
    this.delay.enable();
    this.startedAt = Date.now() - process.uptime() * 1000;
  }

  /** Loop probes recorded since the previous sample (the first probe after one only starts the clock). */
  get loopProbes(): number {
    return this.delay.count;
  }

  /** A sample of the process now; lag covers the time since the previous call. */
  collect(): CollectedSample[] {
    const at = this.now();
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    // The histogram measures each probe's interval, resolution included: the lag is the rest.
    const lag = (ns: number): number =>
      this.delay.count === 0 ? 0 : Math.max(0, ns - this.resolutionNs) / 1e9;
    const p99 = lag(this.delay.percentile(99));
    const max = lag(this.delay.max);
    this.delay.reset();
    const sample = (name: string, labels: Record<string, string>, value: number) => ({
      name,
      labels,
      at,
      value,
    });
    return [
      sample("baton_controller_cpu_seconds_total", { mode: "user" }, cpu.user / 1e6),
      sample("baton_controller_cpu_seconds_total", { mode: "system" }, cpu.system / 1e6),
      sample("baton_controller_resident_memory_bytes", {}, memory.rss),
      sample("baton_controller_heap_bytes", { kind: "used" }, memory.heapUsed),
      sample("baton_controller_heap_bytes", { kind: "total" }, memory.heapTotal),
      sample("baton_controller_event_loop_lag_seconds", { stat: "p99" }, p99),
      sample("baton_controller_event_loop_lag_seconds", { stat: "max" }, max),
      sample("baton_controller_start_time_seconds", {}, this.startedAt / 1000),
    ];
  }

  /** Stops probing the event loop. */
  close(): void {
    this.delay.disable();
  }
}
