/**
 * People and roles on the wire: the tokens of a state directory (never their secret, except
 * once in the answer that creates one) and the audit log of what was changed through it.
 */

/**
 * What a token may do. viewer < deployer < approver < admin, each with what the one before
 * has; `promoter` stands apart: it imports releases and deploys the apps it names, nothing else.
 */
export type TokenRole = "viewer" | "deployer" | "approver" | "admin" | "promoter";

export interface TokenInfo {
  readonly name: string;
  readonly role: TokenRole;
  /** The environment the token was made for; null when the definition declares none. */
  readonly env: string | null;
  /** The apps a promoter may deploy; null for the other roles. */
  readonly apps: readonly string[] | null;
  /** ms since epoch */
  readonly created: number;
  readonly createdBy: string;
  /** null: never expires. */
  readonly expires: number | null;
  readonly lastUsed: number | null;
  /** Set once revoked; a revoked token is kept so `ls` shows it and its name stays in audit. */
  readonly revoked: number | null;
}

export interface TokensAnswer {
  readonly tokens: readonly TokenInfo[];
}

export interface CreateTokenRequest {
  readonly name: string;
  readonly role: TokenRole;
  readonly env?: string;
  /** `90d`, `12h`, `30m`: from now. */
  readonly expires?: string;
  /** The apps a promoter may import and deploy (required for `promoter`, refused otherwise). */
  readonly apps?: readonly string[];
}

export interface CreateTokenAnswer {
  readonly token: TokenInfo;
  /** The bearer token: shown this once, kept hashed. */
  readonly secret: string;
}

export interface RevokeTokenAnswer {
  readonly revoked: string;
}

/** One mutating call, appended when it was answered; never changed afterwards. */
export interface AuditEntry {
  readonly id: number;
  /** ms since epoch */
  readonly at: number;
  /** The token's name; the OS user (`user@host`) for a command that acted on the state directly. */
  readonly who: string;
  /** The token's role; `local` for a command with no controller; `none` for an unknown token. */
  readonly role: string;
  /** `POST /api/v1/apply`, or the name of a local action (`token.create`). */
  readonly action: string;
  /** What it acted on (an app, a run, a token), when the action names one. */
  readonly target: string | null;
  /** The HTTP status it was answered with (a local action: 200, or the error's). */
  readonly outcome: number;
  /** The caller's address; `local` for a command that acted on the state directly. */
  readonly address: string;
}

export interface AuditQuery {
  /** ms since epoch: entries at or after. */
  readonly since?: number;
  readonly limit?: number;
}

export interface AuditAnswer {
  readonly entries: readonly AuditEntry[];
}
