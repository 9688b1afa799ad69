import type BetterSqlite3 from "better-sqlite3";
import type { TokenInfo, TokenRole } from "../api/tokens.js";

export type { TokenInfo, TokenRole };

/** A token as the store keeps it: its info and the hash its secret is checked against. */
export interface StoredToken extends TokenInfo {
  readonly hash: string;
}

export interface NewToken {
  readonly name: string;
  readonly hash: string;
  readonly role: TokenRole;
  readonly env: string | null;
  readonly apps: readonly string[] | null;
  readonly createdBy: string;
  readonly expires: number | null;
}

interface TokenRow {
  name: string;
  hash: string;
  role: TokenRole;
  env: string | null;
  apps: string | null;
  created_at: number;
  created_by: string;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** How long a `last used` time may lag: a token used in a loop costs one write a minute. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** The API tokens of a state directory, their secrets as hashes only. */
export class TokenStore {
  private readonly stmt;

  constructor(
    db: BetterSqlite3.Database,
    private readonly now: () => number,
  ) {
    this.stmt = {
      byName: db.prepare<[string], TokenRow>("SELECT * FROM tokens WHERE name = ?"),
      byHash: db.prepare<[string], TokenRow>("SELECT * FROM tokens WHERE hash = ?"),
      all: db.prepare<[], TokenRow>("SELECT * FROM tokens ORDER BY created_at, name"),
      // A revoked token's name may be given again: its row is replaced, its audit stays.
      insert: db.prepare<Record<string, string | number | null>>(
        `INSERT INTO tokens (name, hash, role, env, apps, created_at, created_by, expires_at)
         VALUES (@name, @hash, @role, @env, @apps, @at, @by, @expires)
         ON CONFLICT (name) DO UPDATE SET hash = @hash, role = @role, env = @env, apps = @apps,
           created_at = @at, created_by = @by, expires_at = @expires, last_used_at = NULL,
           revoked_at = NULL
         WHERE tokens.revoked_at IS NOT NULL`,
      ),
      revoke: db.prepare<[number, string]>(
        "UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
      ),
      used: db.prepare<[number, string, number]>(
        "UPDATE tokens SET last_used_at = ? WHERE name = ? AND (last_used_at IS NULL OR last_used_at < ?)",
      ),
    };
  }

  find(name: string): StoredToken | undefined {
    const row = this.stmt.byName.get(name);
    return row === undefined ? undefined : tokenOf(row);
  }

  findByHash(hash: string): StoredToken | undefined {
    const row = this.stmt.byHash.get(hash);
    return row === undefined ? undefined : tokenOf(row);
  }

  list(): StoredToken[] {
    return this.stmt.all.all().map(tokenOf);
  }

  /** false when a live token has that name already. */
  create(token: NewToken): boolean {
    const result = this.stmt.insert.run({
      name: token.name,
      hash: token.hash,
      role: token.role,
      env: token.env,
      apps: token.apps === null ? null : JSON.stringify(token.apps),
      at: this.now(),
      by: token.createdBy,
      expires: token.expires,
    });
    return result.changes === 1;
  }

  /** false when no live token has that name. */
  revoke(name: string): boolean {
    return this.stmt.revoke.run(this.now(), name).changes === 1;
  }

  markUsed(name: string): void {
    const now = this.now();
    this.stmt.used.run(now, name, now - LAST_USED_RESOLUTION_MS);
  }
}

function tokenOf(row: TokenRow): StoredToken {
  return {
    name: row.name,
    hash: row.hash,
    role: row.role,
    env: row.env,
    apps: row.apps === null ? null : (JSON.parse(row.apps) as string[]),
    created: row.created_at,
    createdBy: row.created_by,
    expires: row.expires_at,
    lastUsed: row.last_used_at,
    revoked: row.revoked_at,
  };
}
