/** The machine a bench ran on, recorded with its results (PM2 benches). */
export interface Pm2Machine {
  readonly cpus: number;
  readonly node: string;
  readonly pm2: string;
  /** 1-minute load average before and after: other work on the machine skews results. */
  readonly load: readonly [number, number];
}

/** The fixed-rate keep-alive load of the rollout and recovery benches. */
export interface RateLoadSettings {
  readonly trials: number;
  readonly replicas: number;
  readonly ratePerS: number;
  readonly connections: number;
  readonly startDelayMs: number;
  readonly padMs: number;
  readonly requestTimeoutMs: number;
}
