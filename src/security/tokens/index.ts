export { Access, forbidden, type Identity, mayPromote, onBehalfOf } from "./access.js";
export { AccessError } from "./errors.js";
export { includes, isTokenRole, RANKED_ROLES, type RankedRole, TOKEN_ROLES } from "./roles.js";
export {
  matchRoute,
  ROUTE_ROLES,
  type RouteMatch,
  type RouteRule,
  UNLISTED_ROLE,
} from "./route-roles.js";
export {
  BOOTSTRAP_TOKEN,
  createToken,
  listTokens,
  parseExpiry,
  revokeToken,
} from "./token-admin.js";
export { hashToken, newTokenSecret, sameHash } from "./token-secret.js";
