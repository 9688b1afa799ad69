import type BetterSqlite3 from "better-sqlite3";
import type { AuditEntry } from "../api/tokens.js";

export type { AuditEntry };

export type NewAuditEntry = Omit<AuditEntry, "id" | "at"> & { readonly at?: number };

/**
 * The audit log: appended to and read, nothing else. There is deliberately no update or
 * delete here, and the table's triggers refuse them from any other writer of the file.
 */
export class AuditStore {
  private readonly stmt;

  constructor(
    db: BetterSqlite3.Database,
    private readonly now: () => number,
  ) {
    this.stmt = {
      append: db.prepare<Record<string, string | number | null>>(
        `INSERT INTO audit (at, who, role, action, target, outcome, address)
         VALUES (@at, @who, @role, @action, @target, @outcome, @address)`,
      ),
      since: db.prepare<[number, number], AuditEntry>(
        `SELECT id, at, who, role, action, target, outcome, address FROM audit
         WHERE at >= ? ORDER BY id DESC LIMIT ?`,
      ),
    };
  }

  append(entry: NewAuditEntry): void {
    this.stmt.append.run({
      at: entry.at ?? this.now(),
      who: entry.who,
      role: entry.role,
      action: entry.action,
      target: entry.target,
      outcome: entry.outcome,
      address: entry.address,
    });
  }

  /** Oldest first: the last `limit` entries at or after `since`. */
  list(since = 0, limit = 1000): AuditEntry[] {
    return this.stmt.since.all(since, limit).reverse();
  }
}
