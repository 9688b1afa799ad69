import type { AlertSnapshot, Notification } from "../alerts/types.js";

/** One alert as Alertmanager's webhook shows it. */
export interface WebhookAlert {
  readonly status: "firing" | "resolved";
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  /** Alertmanager writes the zero time for alerts still firing; receivers expect that. */
  readonly endsAt: string;
  readonly fingerprint: string;
}

/** Alertmanager's webhook payload (version 4), so existing receivers parse it unchanged. */
export interface WebhookPayload {
  readonly version: "4";
  readonly groupKey: string;
  readonly receiver: string;
  readonly status: "firing" | "resolved";
  readonly groupLabels: Readonly<Record<string, string>>;
  readonly commonLabels: Readonly<Record<string, string>>;
  readonly commonAnnotations: Readonly<Record<string, string>>;
  readonly alerts: readonly WebhookAlert[];
}

const ZERO_TIME = "0001-01-01T00:00:00Z";

export function webhookPayload(batch: Notification): WebhookPayload {
  const all = [...batch.firing, ...batch.resolved];
  return {
    version: "4",
    groupKey: batch.groupKey,
    receiver: batch.receiver,
    status: batch.firing.length > 0 ? "firing" : "resolved",
    groupLabels: batch.groupLabels,
    commonLabels: common(all.map((a) => a.labels)),
    commonAnnotations: common(all.map((a) => a.annotations)),
    alerts: all.map(webhookAlert),
  };
}

function webhookAlert(a: AlertSnapshot): WebhookAlert {
  return {
    status: a.status,
    labels: a.labels,
    annotations: a.annotations,
    startsAt: new Date(a.startsAt).toISOString(),
    endsAt: a.endsAt === undefined ? ZERO_TIME : new Date(a.endsAt).toISOString(),
    fingerprint: a.fingerprint,
  };
}

/** The pairs every map has with the same value. */
function common(maps: readonly Readonly<Record<string, string>>[]): Record<string, string> {
  const [first, ...rest] = maps;
  if (first === undefined) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first)) {
    if (rest.every((m) => m[k] === v)) out[k] = v;
  }
  return out;
}
