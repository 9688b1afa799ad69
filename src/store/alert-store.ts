import type BetterSqlite3 from "better-sqlite3";
import type { StoredAlertRecord } from "../api/alerts.js";
import type { AlertRecord, AlertState, Silence } from "../observe/alerts/types.js";
import type { LabelMatcher, Labels } from "../observe/series.js";

export type { StoredAlertRecord } from "../api/alerts.js";

interface HistoryRow {
  id: number;
  kind: "transition" | "notified";
  rule: string;
  labels: string;
  from_state: string | null;
  to_state: string | null;
  receiver: string | null;
  status: string | null;
  value: number | null;
  at: number;
}

interface SilenceRow {
  id: string;
  matchers: string;
  starts_at: number;
  until: number;
  created_by: string;
  comment: string;
}

/** Alert history (transitions and notifications) and silences. */
export class AlertStore {
  private readonly stmt;

  constructor(db: BetterSqlite3.Database) {
    this.stmt = {
      append: db.prepare<
        [
          string,
          string,
          string,
          string | null,
          string | null,
          string | null,
          string | null,
          number | null,
          number,
        ]
      >(
        `INSERT INTO alert_history (kind, rule, labels, from_state, to_state, receiver, status, value, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      recent: db.prepare<[number], HistoryRow>(
        "SELECT * FROM alert_history ORDER BY id DESC LIMIT ?",
      ),
      since: db.prepare<[number], HistoryRow>(
        "SELECT * FROM alert_history WHERE at >= ? ORDER BY id",
      ),
      prune: db.prepare<[number]>("DELETE FROM alert_history WHERE at < ?"),
      pruneSilences: db.prepare<[number]>("DELETE FROM silences WHERE until < ?"),
      addSilence: db.prepare<[string, string, number, number, string, string]>(
        `INSERT INTO silences (id, matchers, starts_at, until, created_by, comment)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      removeSilence: db.prepare<[number, string]>(
        "UPDATE silences SET removed_at = ? WHERE id = ? AND removed_at IS NULL",
      ),
      activeSilences: db.prepare<[number], SilenceRow>(
        "SELECT * FROM silences WHERE removed_at IS NULL AND until > ? ORDER BY starts_at",
      ),
    };
  }

  append(record: AlertRecord): void {
    const labels = JSON.stringify(record.labels);
    if (record.kind === "transition") {
      this.stmt.append.run(
        "transition",
        record.rule,
        labels,
        record.from,
        record.to,
        null,
        null,
        record.value,
        record.at,
      );
    } else {
      this.stmt.append.run(
        "notified",
        record.rule,
        labels,
        null,
        null,
        record.receiver,
        record.status,
        null,
        record.at,
      );
    }
  }

  /** The newest `limit` records, newest first. */
  recent(limit = 50): StoredAlertRecord[] {
    return this.stmt.recent.all(limit).map(fromRow);
  }

  /** Records at or after `at`, oldest first: what restores the alert engine. */
  since(at: number): StoredAlertRecord[] {
    return this.stmt.since.all(at).map(fromRow);
  }

  /** Forgets history and silences that ended before `at`; how many records went. */
  prune(at: number): number {
    const history = this.stmt.prune.run(at).changes;
    this.stmt.pruneSilences.run(at);
    return history;
  }

  addSilence(silence: Silence): void {
    this.stmt.addSilence.run(
      silence.id,
      JSON.stringify(silence.matchers),
      silence.startsAt ?? 0,
      silence.until,
      silence.createdBy,
      silence.comment,
    );
  }

  /** Whether a silence in force had this id. */
  removeSilence(id: string, now: number): boolean {
    return this.stmt.removeSilence.run(now, id).changes > 0;
  }

  activeSilences(now: number): Silence[] {
    return this.stmt.activeSilences.all(now).map((row) => ({
      id: row.id,
      matchers: JSON.parse(row.matchers) as LabelMatcher[],
      startsAt: row.starts_at,
      until: row.until,
      createdBy: row.created_by,
      comment: row.comment,
    }));
  }
}

function fromRow(row: HistoryRow): StoredAlertRecord {
  const labels = JSON.parse(row.labels) as Labels;
  if (row.kind === "notified") {
    return {
      id: row.id,
      kind: "notified",
      rule: row.rule,
      labels,
      receiver: row.receiver ?? "",
      status: row.status === "resolved" ? "resolved" : "firing",
      at: row.at,
    };
  }
  return {
    id: row.id,
    kind: "transition",
    rule: row.rule,
    labels,
    from: (row.from_state ?? "inactive") as AlertState,
    to: (row.to_state ?? "inactive") as AlertState,
    at: row.at,
    value: row.value,
  };
}
