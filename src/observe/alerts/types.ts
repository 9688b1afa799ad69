import { BUILT_IN_ALERT_NAMES } from "../../definition/index.js";
import type { Labels } from "../series.js";

/**
 * The vocabulary of the alert engine. Prometheus' rule states and Alertmanager's grouping are
 * the model, so an operator's habits carry over: an alert is one label set of one rule.
 */

export interface AlertRule {
  readonly name: string;
  readonly severity: string;
  /** How long the condition must hold before pending becomes firing, in ms (0 = at once). */
  readonly for: number;
  /** Receivers; absent = the definition's `alerting.notify`. */
  readonly notify?: readonly string[];
  /** Added to every alert of the rule (they win over the series' labels of the same name). */
  readonly labels?: Labels;
  /** Human text; `{{ $labels.NAME }}` and `{{ $value }}` are filled in per alert. */
  readonly summary?: string;
}

export type {
  AlertRecord,
  AlertState,
  NotifiedRecord,
  Silence,
  TransitionRecord,
} from "../../api/alerts.js";

/** An alert as a notification carries it: a copy, not the engine's live state. */
export interface AlertSnapshot {
  readonly rule: string;
  readonly fingerprint: string;
  readonly labels: Labels;
  readonly annotations: Readonly<Record<string, string>>;
  readonly severity: string;
  readonly status: "firing" | "resolved";
  /** When it began firing, ms since the epoch (Alertmanager's startsAt). */
  readonly startsAt: number;
  /** When it stopped holding; undefined while firing. */
  readonly endsAt?: number;
  readonly value: number | null;
}

/** One batch for one receiver: the alerts of one group, as Alertmanager would send them. */
export interface Notification {
  readonly receiver: string;
  /** The group's identity, e.g. `{alertname="crash-loop",app="api"}`. */
  readonly groupKey: string;
  readonly groupLabels: Labels;
  readonly firing: readonly AlertSnapshot[];
  readonly resolved: readonly AlertSnapshot[];
}

/** The Alertmanager route timings; defaults are Alertmanager's. */
export interface GroupTimings {
  /** Wait before a new group's first notification, so alerts arriving together go out together. */
  readonly groupWaitMs: number;
  /** Minimum time between two notifications of one group when something changed. */
  readonly groupIntervalMs: number;
  /** Resend a group whose firing alerts did not change after this long. */
  readonly repeatIntervalMs: number;
}

export const DEFAULT_TIMINGS: GroupTimings = {
  groupWaitMs: 30_000,
  groupIntervalMs: 5 * 60_000,
  repeatIntervalMs: 4 * 60 * 60_000,
};

/** Labels a group is keyed by when not configured; a label an alert lacks is left out. */
export const DEFAULT_GROUP_BY: readonly string[] = ["alertname", "app"];

/**
 * The rules fed from events and status (raise/clear) rather than from an expression: the
 * definition's own list, so `alerting.disable` and the engine never disagree.
 */
export const BUILT_IN_RULE_NAMES = BUILT_IN_ALERT_NAMES;
