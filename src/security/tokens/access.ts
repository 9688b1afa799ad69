/**
 * Who calls the API and what they may do: a bearer token is looked up (the state directory's
 * own `api-token`, or one made by `baton token create`), its role checked against the route
 * table, and every mutating call appended to the audit log with its outcome. Identity comes
 * from the token alone: whatever a request's body says of who sent it is not read.
 */
import type { TokenRole } from "../../api/tokens.js";
import type { SqliteStore } from "../../store/index.js";
import { AccessError } from "./errors.js";
import { includes, type RankedRole } from "./roles.js";
import { matchRoute, type RouteMatch, UNLISTED_ROLE } from "./route-roles.js";
import { BOOTSTRAP_TOKEN } from "./token-admin.js";
import { hashToken, sameHash } from "./token-secret.js";

export interface Identity {
  /** The token's name: what history, runs and approvals record as who did it. */
  readonly name: string;
  readonly role: TokenRole;
  /** The apps a promoter may act on; null for every other role. */
  readonly apps: readonly string[] | null;
}

/** The caller of a request that could not be identified, as the audit log names it. */
const UNKNOWN = { who: "(unknown)", role: "none" } as const;

export class Access {
  private readonly bootstrapHash: string;

  constructor(
    private readonly store: SqliteStore,
    bootstrapToken: string,
    private readonly now: () => number = Date.now,
  ) {
    this.bootstrapHash = hashToken(bootstrapToken);
  }

  /** The identity of a request's `Authorization: Bearer …`; 401 when there is none. */
  identify(header: string | undefined): Identity {
    const given = header?.startsWith("Bearer ") ? header.slice(7).trim() : "";
    if (given === "") {
      throw unauthorized("the request carries no bearer token (Authorization: Bearer …)");
    }
    const hash = hashToken(given);
    if (sameHash(hash, this.bootstrapHash))
      return { name: BOOTSTRAP_TOKEN, role: "admin", apps: null };
    // Looked up by its hash: how long the lookup takes says something of the hash only,
    // which says nothing of the token. The hash is compared again in constant time.
    const token = this.store.tokens.findByHash(hash);
    if (token === undefined || !sameHash(token.hash, hash)) {
      throw unauthorized("the bearer token is not one of this controller's tokens");
    }
    if (token.revoked !== null) {
      throw unauthorized(
        `token ${token.name} was revoked at ${new Date(token.revoked).toISOString()}`,
      );
    }
    if (token.expires !== null && token.expires <= this.now()) {
      throw unauthorized(`token ${token.name} expired at ${new Date(token.expires).toISOString()}`);
    }
    this.store.tokens.markUsed(token.name);
    return { name: token.name, role: token.role, apps: token.apps };
  }

  /** The request's row of the route table; 403 naming the role it needs and the one given. */
  authorize(identity: Identity, method: string, pathname: string): RouteMatch {
    const match = matchRoute(method, pathname);
    const needed: RankedRole = match.rule?.role ?? UNLISTED_ROLE;
    if (includes(identity.role, needed)) return match;
    if (identity.role === "promoter" && match.rule?.promoter === true) {
      // The import names its app in the body: the server checks it with `mayPromote`.
      if (match.app === null || mayPromote(identity, match.app)) return match;
      throw forbidden(
        `token ${identity.name} may promote ${identity.apps?.join(", ") ?? "no app"}, not ${match.app}`,
        "create a promoter token that names this app too (`--app`)",
      );
    }
    const what = `${method} ${pathname}`;
    throw forbidden(
      `${what} needs the role ${needed}; token ${identity.name} has the role ${identity.role}${identity.role === "promoter" ? " (it may only import releases and deploy its apps)" : ""}`,
      `an admin gives a token with that role: \`baton token create NAME --role ${needed}\``,
    );
  }

  /** Appends the answered call to the audit log when it changes something (or tried to). */
  record(
    identity: Identity | undefined,
    method: string,
    pathname: string,
    status: number,
    address: string | undefined,
    target?: string,
  ): void {
    const match = matchRoute(method, pathname);
    const audited = match.rule?.audit ?? method !== "GET";
    if (!audited) return;
    this.store.audit.append({
      who: identity?.name ?? UNKNOWN.who,
      role: identity?.role ?? UNKNOWN.role,
      action: `${method} ${match.rule?.path ?? pathname}`,
      target: target ?? match.target,
      outcome: status,
      address: address ?? "unknown",
    });
  }
}

/** How long a promoter's account of whom it acts for may be. */
const MAX_ON_BEHALF = 200;

/**
 * Who a change is recorded as: the token's name. A promoter (a controller promoting from
 * another environment) adds whom it acts for (`pipeline api #4 promote from dev, approved by
 * ann`) after its name: it can say why, never be someone else.
 */
export function onBehalfOf(identity: Identity, claimed: unknown): string {
  if (identity.role !== "promoter" || typeof claimed !== "string" || claimed.trim() === "") {
    return identity.name;
  }
  return `${identity.name} (${claimed.trim().slice(0, MAX_ON_BEHALF)})`;
}

/** Whether a promoter token may import or deploy `app`. */
export function mayPromote(identity: Identity, app: string): boolean {
  return identity.role !== "promoter" || (identity.apps ?? []).includes(app);
}

function unauthorized(message: string): AccessError {
  return new AccessError("api.unauthorized", message, {
    hint: "use the state directory's api-token, or a token from `baton token create` in BATON_TOKEN",
  });
}

export function forbidden(message: string, hint: string): AccessError {
  return new AccessError("api.forbidden", message, { hint });
}
