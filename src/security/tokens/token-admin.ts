/**
 * Creating, listing and revoking tokens: the same rules whether the controller's API asks
 * (an admin token) or `baton token` acts on a state directory with no controller running.
 */
import type { CreateTokenAnswer, CreateTokenRequest, TokenInfo } from "../../api/tokens.js";
import type { SqliteStore } from "../../store/index.js";
import { AccessError } from "./errors.js";
import { isTokenRole, TOKEN_ROLES } from "./roles.js";
import { hashToken, newTokenSecret } from "./token-secret.js";

/** The name the state directory's own `api-token` goes by: admin, made by `baton up`. */
export const BOOTSTRAP_TOKEN = "bootstrap";

const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,126}$/;
const EXPIRY = /^(\d+)(s|m|h|d|w)$/;
const MS_PER: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** Milliseconds in `90d`, `12h`, `30m`, `2w` (or `30s`); undefined when it is none of those. */
export function parseExpiry(text: string): number | undefined {
  const match = EXPIRY.exec(text);
  if (match === null) return undefined;
  const ms = Number(match[1]) * (MS_PER[match[2] ?? ""] ?? 0);
  return ms > 0 ? ms : undefined;
}

/** Checks the request field by field: it may come from any HTTP client. */
export function createToken(
  store: SqliteStore,
  request: CreateTokenRequest,
  createdBy: string,
  now = Date.now(),
): CreateTokenAnswer {
  const { name, role } = request;
  if (typeof name !== "string" || !TOKEN_NAME.test(name)) {
    throw new AccessError(
      "token.invalid_name",
      `a token's name is 1 to 127 letters, digits, '.', '_', '@' or '-', starting with a letter or digit, found ${JSON.stringify(name)}`,
      {
        hint: "name it after the person or machine that holds it: `baton token create ann --role viewer`",
      },
    );
  }
  if (name === BOOTSTRAP_TOKEN) {
    throw new AccessError(
      "token.reserved_name",
      `${BOOTSTRAP_TOKEN} is the name of the state directory's own token (its api-token file)`,
      { hint: "choose another name" },
    );
  }
  if (!isTokenRole(role)) {
    throw new AccessError(
      "token.invalid_role",
      `--role must be one of ${TOKEN_ROLES.join(", ")}, found ${JSON.stringify(role)}`,
      { hint: "viewer reads; deployer applies and deploys; approver approves; admin does all" },
    );
  }
  const apps = appsOf(request);
  let expires: number | null = null;
  if (request.expires !== undefined) {
    const ms = typeof request.expires === "string" ? parseExpiry(request.expires) : undefined;
    if (ms === undefined) {
      throw new AccessError(
        "token.invalid_expires",
        `--expires must be a whole number of minutes, hours, days or weeks (30m, 12h, 90d, 2w), found ${JSON.stringify(request.expires)}`,
        { hint: "write --expires 90d" },
      );
    }
    expires = now + ms;
  }
  const env = typeof request.env === "string" && request.env !== "" ? request.env : null;
  const secret = newTokenSecret();
  const created = store.tokens.create({
    name,
    hash: hashToken(secret),
    role,
    env,
    apps,
    createdBy,
    expires,
  });
  if (!created) {
    throw new AccessError("token.exists", `a token named ${name} exists already`, {
      hint: `\`baton token revoke ${name}\` first, or choose another name`,
    });
  }
  const token = store.tokens.find(name);
  if (token === undefined) throw new Error(`bug: token ${name} not found after it was created`);
  return { token: infoOf(token), secret };
}

function appsOf(request: CreateTokenRequest): string[] | null {
  const apps = request.apps;
  if (request.role !== "promoter") {
    if (apps !== undefined && apps.length > 0) {
      throw new AccessError(
        "token.invalid_apps",
        `--app names the apps of a promoter token; a ${request.role} token acts on every app`,
        { hint: "leave out --app, or create the token with --role promoter" },
      );
    }
    return null;
  }
  if (
    !Array.isArray(apps) ||
    apps.length === 0 ||
    !apps.every((app) => typeof app === "string" && app !== "")
  ) {
    throw new AccessError(
      "token.invalid_apps",
      "a promoter token names the apps it may deploy, found none",
      { hint: "add --app NAME (once per app)" },
    );
  }
  return [...apps];
}

/**
 * The tokens, the state directory's own first (`bootstrapCreated`: when its api-token file
 * was made; null when none was yet); never a secret nor a hash.
 */
export function listTokens(store: SqliteStore, bootstrapCreated: number | null): TokenInfo[] {
  return [...bootstrapInfo(bootstrapCreated), ...store.tokens.list().map(infoOf)];
}

export function revokeToken(store: SqliteStore, name: string): void {
  if (name === BOOTSTRAP_TOKEN) {
    throw new AccessError(
      "token.reserved_name",
      `${BOOTSTRAP_TOKEN} is the state directory's own token and cannot be revoked`,
      {
        hint: "to replace it, stop the controller, delete <state>/api-token and start it again: a new one is made",
      },
    );
  }
  if (!store.tokens.revoke(name)) {
    const found = store.tokens.find(name);
    throw new AccessError(
      found === undefined ? "token.not_found" : "token.revoked",
      found === undefined
        ? `there is no token named ${name}`
        : `token ${name} was revoked already, at ${new Date(found.revoked ?? 0).toISOString()}`,
      { hint: "`baton token ls` lists them" },
    );
  }
}

function infoOf(token: TokenInfo): TokenInfo {
  return {
    name: token.name,
    role: token.role,
    env: token.env,
    apps: token.apps,
    created: token.created,
    createdBy: token.createdBy,
    expires: token.expires,
    lastUsed: token.lastUsed,
    revoked: token.revoked,
  };
}

function bootstrapInfo(created: number | null): TokenInfo[] {
  if (created === null) return [];
  return [
    {
      name: BOOTSTRAP_TOKEN,
      role: "admin",
      env: null,
      apps: null,
      created,
      createdBy: "baton up",
      expires: null,
      lastUsed: null,
      revoked: null,
    },
  ];
}
