import type BetterSqlite3 from "better-sqlite3";

/** A resource Baton applied to a host, as the definition said it then. */
export interface AppliedHostResource {
  readonly host: string;
  readonly module: string;
  readonly identity: string;
  /** The resource's spec (a HostResource), as JSON was given. */
  readonly spec: unknown;
  readonly appliedAt: number;
}

export interface StoredFacts {
  readonly host: string;
  readonly facts: unknown;
  readonly gatheredAt: number;
}

interface ResourceRow {
  host: string;
  module: string;
  identity: string;
  spec: string;
  applied_at: number;
}

/**
 * What the hosts reconciler remembers between runs: the resources it applied (so that one the
 * definition drops is removed) and each host's last facts.
 */
export class HostStore {
  private readonly stmt;

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly now: () => number,
  ) {
    this.stmt = {
      applied: db.prepare<[string], ResourceRow>(
        "SELECT host, module, identity, spec, applied_at FROM host_resources WHERE host = ? ORDER BY rowid",
      ),
      upsert: db.prepare<[string, string, string, string, number]>(
        `INSERT INTO host_resources (host, module, identity, spec, applied_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (host, module, identity) DO UPDATE SET spec = excluded.spec, applied_at = excluded.applied_at`,
      ),
      forget: db.prepare<[string, string, string]>(
        "DELETE FROM host_resources WHERE host = ? AND module = ? AND identity = ?",
      ),
      facts: db.prepare<[string], { host: string; facts: string; gathered_at: number }>(
        "SELECT host, facts, gathered_at FROM host_facts WHERE host = ?",
      ),
      saveFacts: db.prepare<[string, string, number]>(
        `INSERT INTO host_facts (host, facts, gathered_at) VALUES (?, ?, ?)
         ON CONFLICT (host) DO UPDATE SET facts = excluded.facts, gathered_at = excluded.gathered_at`,
      ),
    };
  }

  /** Everything applied to the host, in the order it was first applied. */
  applied(host: string): AppliedHostResource[] {
    return this.stmt.applied.all(host).map((row) => ({
      host: row.host,
      module: row.module,
      identity: row.identity,
      spec: JSON.parse(row.spec) as unknown,
      appliedAt: row.applied_at,
    }));
  }

  /** One host's outcome at once: what is now in place is recorded, what was removed forgotten. */
  record(
    host: string,
    applied: readonly { module: string; identity: string; spec: unknown }[],
    removed: readonly { module: string; identity: string }[],
  ): void {
    const at = this.now();
    this.db.transaction(() => {
      for (const r of applied)
        this.stmt.upsert.run(host, r.module, r.identity, JSON.stringify(r.spec), at);
      for (const r of removed) this.stmt.forget.run(host, r.module, r.identity);
    })();
  }

  facts(host: string): StoredFacts | undefined {
    const row = this.stmt.facts.get(host);
    return row === undefined
      ? undefined
      : { host: row.host, facts: JSON.parse(row.facts) as unknown, gatheredAt: row.gathered_at };
  }

  saveFacts(host: string, facts: unknown): StoredFacts {
    const gatheredAt = this.now();
    this.stmt.saveFacts.run(host, JSON.stringify(facts), gatheredAt);
    return { host, facts, gatheredAt };
  }
}
