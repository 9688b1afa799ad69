/**
 * `metrics:` — how often the controller samples and how long it keeps what it sampled.
 * Every field has a default; the block may be left out.
 */
import { z } from "zod";
import { documented, duration } from "./schema-fields.js";

export const METRICS_DEFAULTS = {
  interval: "1s",
  hostInterval: "15s",
  raw: "24h",
  aggregated: "720h",
} as const;

export const metricsSchema = documented(
  z.strictObject({
    interval: duration(
      `How often replicas, the proxy and the controller are sampled; 0s turns sampling off. Default ${METRICS_DEFAULTS.interval} ($BATON_METRICS_INTERVAL overrides it).`,
      "1s",
    ).optional(),
    hostInterval: duration(
      `How often the environment's hosts are read over their transports. Default ${METRICS_DEFAULTS.hostInterval}.`,
      "15s",
    ).optional(),
    retention: documented(
      z.strictObject({
        raw: duration(
          `How long every sample is kept as it was taken. Default ${METRICS_DEFAULTS.raw}.`,
          "24h",
        ).optional(),
        aggregated: duration(
          `How long 1-minute aggregates (min, max, average, last) are kept; at least \`raw\`. Default ${METRICS_DEFAULTS.aggregated} (30 days).`,
          "720h",
        ).optional(),
      }),
      "How long samples are kept in `.baton/metrics.db`: raw, then downsampled to 1 minute.",
      { expected: "a mapping with `raw` and/or `aggregated`", example: { raw: "24h" } },
    ).optional(),
  }),
  "Sampling and retention of Baton's metrics (`GET /metrics`, `baton metrics`, alert rules).",
  {
    expected: "a mapping with `interval`, `hostInterval`, `retention`",
    example: { interval: "1s" },
  },
).optional();

export type MetricsInput = z.output<typeof metricsSchema>;
