import type { Probe } from "../definition/model.js";
import { delay } from "../util/wait.js";
import { type ProbeTarget, runProbe } from "./probe.js";

/** What a replica's probes of one kind have found so far: what metrics report. */
export interface ProbeStats {
  readonly checks: number;
  readonly failures: number;
  /** The last check's outcome and how long it took. */
  readonly lastOk: boolean;
  readonly lastLatencyMs: number;
}

export type ProbeKind = "readiness" | "liveness";

export interface HealthCallbacks {
  onReadiness(ready: boolean, detail: string): void;
  onLivenessFailed(detail: string): void;
}

/**
 * Until a replica is ready for the first time it is checked every 10 ms for its first
 * second (a connect to loopback costs microseconds), then at a pace doubling up to its
 * interval, so a replica that is never ready does not cost a check every 10 ms forever.
 */
const FIRST_READY_CHECK_MS = 10;
const FAST_CHECKS_FOR_MS = 1_000;

/**
 * Runs the readiness and liveness probes of one replica. Readiness is checked at once and,
 * until the replica first passes, every 10 ms for a second and then at a doubling pace up to
 * the interval, so a replica takes traffic within ~10 ms of listening rather than after a
 * whole interval. Liveness counts only once the replica was ready (or, with no readiness
 * probe, after its initial delay), so a slow start is not mistaken for a hang.
 */
export class ReplicaHealth {
  private readonly abort = new AbortController();
  private everReady = false;
  private readonly counted: Partial<Record<ProbeKind, ProbeStats>> = {};

  constructor(
    private readonly readiness: Probe | undefined,
    private readonly liveness: Probe | undefined,
    private readonly target: ProbeTarget,
    private readonly callbacks: HealthCallbacks,
    /** Start as ready (an adopted replica that the proxy already serves). */
    initiallyReady = false,
  ) {
    this.everReady = initiallyReady;
  }

  start(): void {
    void this.readinessLoop();
    void this.livenessLoop();
  }

  stop(): void {
    this.abort.abort();
  }

  /** Checks run and failed per probe kind since the replica was watched. */
  stats(): Partial<Record<ProbeKind, ProbeStats>> {
    return { ...this.counted };
  }

  private check(kind: ProbeKind, probe: Probe): ReturnType<typeof runProbe> {
    return runProbe(probe, this.target).then((result) => {
      const before = this.counted[kind];
      this.counted[kind] = {
        checks: (before?.checks ?? 0) + 1,
        failures: (before?.failures ?? 0) + (result.ok ? 0 : 1),
        lastOk: result.ok,
        lastLatencyMs: result.latencyMs,
      };
      return result;
    });
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async readinessLoop(): Promise<void> {
    const probe = this.readiness;
    if (probe === undefined) {
      this.everReady = true;
      this.callbacks.onReadiness(true, "");
      return;
    }
    let ready = this.everReady;
    let failures = 0;
    let successes = 0;
    let pace = FIRST_READY_CHECK_MS;
    const fastUntil = performance.now() + FAST_CHECKS_FOR_MS;
    while (!this.stopped) {
      const result = await this.check("readiness", probe);
      if (this.stopped) return;
      if (result.ok) {
        successes += 1;
        failures = 0;
        const threshold = this.everReady ? probe.successThreshold : 1;
        if (!ready && successes >= threshold) {
          ready = true;
          this.everReady = true;
          this.callbacks.onReadiness(true, "");
        }
      } else {
        failures += 1;
        successes = 0;
        if (ready && failures >= probe.failureThreshold) {
          ready = false;
          this.callbacks.onReadiness(false, result.detail);
        } else if (!ready) {
          this.callbacks.onReadiness(false, result.detail);
        }
      }
      const wait = this.everReady ? probe.intervalMs : Math.min(pace, probe.intervalMs);
      if (performance.now() > fastUntil) pace *= 2;
      await delay(wait, this.abort.signal);
    }
  }

  private async livenessLoop(): Promise<void> {
    const probe = this.liveness;
    if (probe === undefined) return;
    await delay(probe.initialDelayMs, this.abort.signal);
    let failures = 0;
    while (!this.stopped) {
      await delay(probe.intervalMs, this.abort.signal);
      if (this.stopped) return;
      if (!this.everReady && this.readiness !== undefined) continue;
      const result = await this.check("liveness", probe);
      if (this.stopped) return;
      failures = result.ok ? 0 : failures + 1;
      if (failures >= probe.failureThreshold) {
        this.callbacks.onLivenessFailed(result.detail);
        return;
      }
    }
  }
}
