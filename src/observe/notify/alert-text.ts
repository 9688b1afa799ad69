import type { AlertSnapshot, Notification } from "../alerts/types.js";

/** A one-line title for a batch, e.g. `[FIRING:2] crash-loop app=api`. */
export function batchTitle(batch: Notification): string {
  const status =
    batch.firing.length > 0 ? `FIRING:${batch.firing.length}` : `RESOLVED:${batch.resolved.length}`;
  const group = Object.entries(batch.groupLabels)
    .filter(([name]) => name !== "alertname")
    .map(([name, value]) => `${name}=${value}`);
  const name = batch.groupLabels.alertname;
  return [`[${status}]`, ...(name === undefined ? [] : [name]), ...group].join(" ");
}

/** One line per alert: status, summary (or name), its labels and since when. */
export function alertLine(a: AlertSnapshot): string {
  const labels = Object.entries(a.labels)
    .filter(([name]) => name !== "alertname" && name !== "severity")
    .map(([name, value]) => `${name}=${value}`)
    .join(" ");
  const what = a.annotations.summary ?? a.rule;
  const when =
    a.endsAt === undefined
      ? `since ${new Date(a.startsAt).toISOString()}`
      : `resolved at ${new Date(a.endsAt).toISOString()}`;
  return `${a.status.toUpperCase()} [${a.severity}] ${what} (${labels}) ${when}`;
}

/** The batch as plain text: title, then firing alerts, then resolved ones. */
export function batchText(batch: Notification): string {
  const lines = [batchTitle(batch)];
  for (const a of batch.firing) lines.push(alertLine(a));
  for (const a of batch.resolved) lines.push(alertLine(a));
  return lines.join("\n");
}
