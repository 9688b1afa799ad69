import type { TokenRole } from "../../api/tokens.js";

export type { TokenRole };

/** The roles that include each other, weakest first: each may do what those before it may. */
export const RANKED_ROLES = ["viewer", "deployer", "approver", "admin"] as const;
export type RankedRole = (typeof RANKED_ROLES)[number];

/** Every role a token may be created with. */
export const TOKEN_ROLES: readonly TokenRole[] = [...RANKED_ROLES, "promoter"];

export function isTokenRole(value: unknown): value is TokenRole {
  return typeof value === "string" && (TOKEN_ROLES as readonly string[]).includes(value);
}

/**
 * Whether `role` includes `needed`. A promoter includes none: what it may do is listed
 * route by route (route-roles.ts `promoter`), for its own apps only.
 */
export function includes(role: TokenRole, needed: RankedRole): boolean {
  if (role === "promoter") return false;
  return RANKED_ROLES.indexOf(role) >= RANKED_ROLES.indexOf(needed);
}
