/**
 * Alerts and silences as the API answers them (`baton alerts`, `baton silence`): labels and
 * receiver names, never a notifier's URL.
 */
import type { LabelMatcher, Labels } from "./metrics.js";

/** `inactive` is the absence of an alert; it appears only as the end of records. */
export type AlertState = "inactive" | "pending" | "firing" | "resolved";

/** An alert pending or firing now. */
export interface ActiveAlert {
  readonly rule: string;
  readonly fingerprint: string;
  readonly labels: Labels;
  readonly state: "pending" | "firing";
  readonly activeSince: number;
  readonly firingSince: number | undefined;
  readonly value: number | null;
  /** The id of the silence that mutes it now, if any. */
  readonly silencedBy: string | undefined;
}

/** One state change, handed to the history sink; the last ones restore the engine. */
export interface TransitionRecord {
  readonly kind: "transition";
  readonly rule: string;
  /** The alert's full labels (alertname, severity, the rule's and the series'). */
  readonly labels: Labels;
  readonly from: AlertState;
  readonly to: AlertState;
  readonly at: number;
  /** The expression's value at the change; null for alerts raised from events. */
  readonly value: number | null;
}

/**
 * That an alert reached a receiver in a batch (firing or resolved), at delivery time. Recorded
 * so a restarted engine knows what it already told, and does not repeat it before the repeat
 * interval; a batch still queued at a restart has none, and is sent again.
 */
export interface NotifiedRecord {
  readonly kind: "notified";
  readonly rule: string;
  readonly labels: Labels;
  readonly receiver: string;
  readonly status: "firing" | "resolved";
  readonly at: number;
}

export type AlertRecord = TransitionRecord | NotifiedRecord;

/** One stored record with its row id (history is shown newest first). */
export type StoredAlertRecord = AlertRecord & { readonly id: number };

/** Mutes matching alerts until `until`; they keep changing state (and being recorded). */
export interface Silence {
  readonly id: string;
  /** All must match; Alertmanager-style `label=value` and `label=~regex` (and the negations). */
  readonly matchers: readonly LabelMatcher[];
  readonly until: number;
  /** Absent = from the moment it is added. */
  readonly startsAt?: number;
  readonly createdBy: string;
  readonly comment: string;
}

/** `GET /api/v1/alerts?history=N`: what is active, the silences, the last N records. */
export interface AlertsAnswer {
  readonly active: readonly ActiveAlert[];
  readonly silences: readonly Silence[];
  readonly history: readonly StoredAlertRecord[];
}

/**
 * `POST /api/v1/silences`: `matchers` such as `app=api`, `code=~5..` (a bare name is the
 * alert's), and how long: `for` (`2h`, or ms) or `until` (RFC 3339, or ms).
 */
export interface SilenceRequest {
  readonly matchers: readonly string[];
  readonly for?: string | number;
  readonly until?: string | number;
  readonly comment?: string;
  readonly by?: string;
}

export interface SilenceAnswer {
  readonly silence: Silence;
}

/** `GET /api/v1/silences`. */
export interface SilencesAnswer {
  readonly silences: readonly Silence[];
}

/** `DELETE /api/v1/silences/:id?by=WHO`. */
export interface SilenceRemovedAnswer {
  readonly removed: string;
}
