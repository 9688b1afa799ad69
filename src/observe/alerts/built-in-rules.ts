import type { AlertRule } from "./types.js";

/**
 * The rules on by default, fed from events through raise/clear. The `for` values keep a
 * single blip (one failed readiness probe, one lost SSH connection) from paging anyone.
 */
export const BUILT_IN_RULES: readonly AlertRule[] = [
  { name: "crash-loop", severity: "page", for: 0, summary: "{{ $labels.app }} is crash-looping" },
  {
    name: "replica-not-ready",
    severity: "warning",
    for: 2 * 60_000,
    summary: "a replica of {{ $labels.app }} is not ready",
  },
  {
    name: "rollout-failed",
    severity: "page",
    for: 0,
    summary: "the rollout of {{ $labels.app }} failed or was rolled back",
  },
  { name: "drift", severity: "warning", for: 0, summary: "drift found on {{ $labels.resource }}" },
  {
    name: "host-unreachable",
    severity: "page",
    for: 60_000,
    summary: "host {{ $labels.host }} is unreachable",
  },
  {
    name: "disk-full",
    severity: "warning",
    for: 5 * 60_000,
    summary: "disk {{ $labels.mount }} on {{ $labels.host }} is above 90 %",
  },
  {
    name: "pipeline-failed",
    severity: "warning",
    for: 0,
    summary: "pipeline {{ $labels.pipeline }} failed",
  },
  {
    name: "notifier-failing",
    severity: "warning",
    for: 0,
    summary: "notifier {{ $labels.receiver }} gave up delivering alerts",
  },
];
