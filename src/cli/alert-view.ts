import type { ActiveAlert, Silence, StoredAlertRecord } from "../api/index.js";
import { formatAge, table } from "./output.js";

/** The labels that tell alerts apart, without the rule's name and severity shown beside. */
function labelText(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .filter(([k]) => k !== "alertname" && k !== "severity")
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}

export function renderActive(alerts: readonly ActiveAlert[], now: number): string {
  if (alerts.length === 0) return "no alerts pending or firing";
  const rows = [["ALERT", "STATE", "SEVERITY", "SINCE", "LABELS", "SILENCED"]];
  for (const a of alerts) {
    rows.push([
      a.rule,
      a.state,
      a.labels.severity ?? "",
      formatAge(now - (a.firingSince ?? a.activeSince)),
      labelText(a.labels) || "-",
      a.silencedBy ?? "",
    ]);
  }
  return table(rows);
}

export function renderHistory(records: readonly StoredAlertRecord[]): string {
  if (records.length === 0) return "no alert history";
  const rows = [["TIME", "ALERT", "WHAT", "LABELS"]];
  for (const r of records) {
    const what =
      r.kind === "transition" ? `${r.from} → ${r.to}` : `${r.status} sent to ${r.receiver}`;
    rows.push([new Date(r.at).toISOString(), r.rule, what, labelText(r.labels) || "-"]);
  }
  return table(rows);
}

export function renderSilences(silences: readonly Silence[], now: number): string {
  if (silences.length === 0) return "no silences in force";
  const rows = [["ID", "MATCHERS", "ENDS IN", "BY", "COMMENT"]];
  for (const s of silences) {
    rows.push([
      s.id,
      s.matchers.map((m) => `${m.label}${m.op}${m.value}`).join(" "),
      formatAge(s.until - now),
      s.createdBy,
      s.comment,
    ]);
  }
  return table(rows);
}
