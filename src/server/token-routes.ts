/**
 * `GET/POST /api/v1/tokens`, `DELETE /api/v1/tokens/:name`, `GET /api/v1/audit`: answered
 * with or without a controller running (the route table lets only admin in).
 */
import type { IncomingMessage } from "node:http";
import { answer, routes } from "../api/routes.js";
import type { CreateTokenRequest } from "../api/tokens.js";
import { createToken, type Identity, listTokens, revokeToken } from "../security/tokens/index.js";
import type { SqliteStore } from "../store/index.js";
import { apiTokenCreated } from "./api-token.js";
import { HttpError } from "./http-error.js";

const MAX_AUDIT_ENTRIES = 10_000;

export async function tokenRoute(
  store: SqliteStore,
  stateDir: string,
  identity: Identity,
  req: IncomingMessage,
  url: URL,
  readJson: (req: IncomingMessage) => Promise<Record<string, unknown>>,
  /** Where the audit log's target is noted: the name of the token made. */
  noted: { target?: string },
): Promise<unknown> {
  const route = `${req.method} ${url.pathname}`;
  if (route === "GET /api/v1/tokens") {
    return answer(routes.tokens, { tokens: listTokens(store, apiTokenCreated(stateDir)) });
  }
  if (route === "POST /api/v1/tokens") {
    const body = await readJson(req);
    // Read field by field in createToken: any HTTP client may have sent it.
    noted.target = String(body.name ?? "");
    const request: CreateTokenRequest = {
      name: String(body.name ?? ""),
      role: body.role as CreateTokenRequest["role"],
      ...(typeof body.env === "string" ? { env: body.env } : {}),
      ...(body.expires === undefined ? {} : { expires: String(body.expires) }),
      ...(Array.isArray(body.apps) ? { apps: body.apps.map(String) } : {}),
    };
    return answer(routes.createToken, createToken(store, request, identity.name));
  }
  const revoke = /^\/api\/v1\/tokens\/([^/]+)$/.exec(url.pathname);
  if (req.method === "DELETE" && revoke) {
    let name: string;
    try {
      name = decodeURIComponent(revoke[1] ?? "");
    } catch {
      throw new HttpError(
        "api.invalid_path",
        `the token name in the path is not valid URI encoding: ${revoke[1]}`,
      );
    }
    revokeToken(store, name);
    return answer(routes.revokeToken, { revoked: name });
  }
  if (route === "GET /api/v1/audit") {
    const since = Number(url.searchParams.get("since") ?? "0");
    const limit = Number(url.searchParams.get("limit") ?? String(MAX_AUDIT_ENTRIES));
    return answer(routes.audit, {
      entries: store.audit.list(
        Number.isFinite(since) ? since : 0,
        Number.isInteger(limit) && limit > 0
          ? Math.min(limit, MAX_AUDIT_ENTRIES)
          : MAX_AUDIT_ENTRIES,
      ),
    });
  }
  return undefined;
}
