/**
 * The one table of which role each API route needs. A request matching no row needs admin
 * (and is answered 404 if it is no route at all): a route added without a row here is closed
 * to everyone but admin, and test/unit/security/route-roles.test.ts fails until it has one.
 */
import type { RankedRole } from "./roles.js";

export interface RouteRule {
  /** `*`: any method. */
  readonly method: "GET" | "POST" | "PUT" | "DELETE" | "*";
  /**
   * Segments; `:name` matches one segment (its value is the call's target); a last `*`
   * matches the rest of the path, however long, or nothing.
   */
  readonly path: string;
  readonly role: RankedRole;
  /** A promoter may call it too, for the apps it names (the `:app` of the path). */
  readonly promoter?: boolean;
  /**
   * Recorded in the audit log: by default every call but a GET. A plan and uploads of the
   * content an apply names change nothing anyone relies on; the apply that uses them is
   * what is recorded.
   */
  readonly audit?: boolean;
}

export const ROUTE_ROLES: readonly RouteRule[] = [
  { method: "GET", path: "/api/v1/status", role: "viewer" },
  { method: "POST", path: "/api/v1/plan", role: "viewer", audit: false },
  { method: "POST", path: "/api/v1/blobs/missing", role: "viewer", audit: false },
  { method: "PUT", path: "/api/v1/blobs/:digest", role: "viewer", audit: false },
  { method: "POST", path: "/api/v1/apply", role: "deployer" },
  { method: "POST", path: "/api/v1/hosts/apply", role: "deployer" },
  // Host checks read hosts and record what they found: no change to anything managed.
  { method: "POST", path: "/api/v1/drift", role: "viewer" },
  { method: "POST", path: "/api/v1/hosts/facts", role: "viewer" },
  { method: "POST", path: "/api/v1/parity", role: "viewer" },
  { method: "POST", path: "/api/v1/shutdown", role: "admin" },

  { method: "POST", path: "/api/v1/apps/:app/scale", role: "deployer" },
  { method: "GET", path: "/api/v1/apps/:app/history", role: "viewer" },
  { method: "GET", path: "/api/v1/apps/:app/rollout", role: "viewer" },
  { method: "POST", path: "/api/v1/apps/:app/rollout/retry", role: "deployer" },
  { method: "POST", path: "/api/v1/apps/:app/rollback", role: "deployer" },
  { method: "GET", path: "/api/v1/apps/:app/releases", role: "viewer" },
  { method: "POST", path: "/api/v1/apps/:app/releases", role: "deployer" },
  { method: "GET", path: "/api/v1/apps/:app/build", role: "viewer" },
  // A promotion: the release copied in, deployed, its rollout followed.
  { method: "GET", path: "/api/v1/apps/:app/release", role: "viewer", promoter: true },
  { method: "POST", path: "/api/v1/apps/:app/deploy", role: "deployer", promoter: true },
  { method: "POST", path: "/api/v1/releases", role: "deployer", promoter: true },

  { method: "GET", path: "/api/v1/runs", role: "viewer" },
  { method: "GET", path: "/api/v1/runs/:run", role: "viewer" },
  { method: "POST", path: "/api/v1/pipelines/:pipeline/runs", role: "deployer" },
  { method: "POST", path: "/api/v1/runs/:run/approve", role: "approver" },
  { method: "POST", path: "/api/v1/runs/:run/cancel", role: "deployer" },
  { method: "POST", path: "/api/v1/hooks/push", role: "deployer" },

  { method: "GET", path: "/api/v1/events", role: "viewer" },
  { method: "GET", path: "/api/v1/events/stream", role: "viewer" },
  { method: "GET", path: "/api/v1/alerts", role: "viewer" },
  { method: "GET", path: "/api/v1/silences", role: "viewer" },
  { method: "POST", path: "/api/v1/silences", role: "deployer" },
  { method: "DELETE", path: "/api/v1/silences/:silence", role: "deployer" },
  { method: "GET", path: "/api/v1/metrics", role: "viewer" },
  { method: "GET", path: "/metrics", role: "viewer" },
  { method: "GET", path: "/api/v1/query", role: "viewer" },
  { method: "GET", path: "/api/v1/logs", role: "viewer" },

  // People and what they did; secrets by their path, whatever routes they get.
  { method: "GET", path: "/api/v1/tokens", role: "admin" },
  { method: "POST", path: "/api/v1/tokens", role: "admin" },
  { method: "DELETE", path: "/api/v1/tokens/:token", role: "admin" },
  { method: "GET", path: "/api/v1/audit", role: "admin" },
  { method: "*", path: "/api/v1/secrets/*", role: "admin" },
];

export interface RouteMatch {
  /** undefined: no row; the request needs admin. */
  readonly rule: RouteRule | undefined;
  /** The first `:name` segment of the path, decoded: the app, run or token it acts on. */
  readonly target: string | null;
  /** The `:app` of the path, if any. */
  readonly app: string | null;
}

/** The row of the first rule matching the request. */
export function matchRoute(method: string, pathname: string): RouteMatch {
  const given = pathname.split("/");
  for (const rule of ROUTE_ROLES) {
    if (rule.method !== "*" && rule.method !== method) continue;
    const params = matchPath(rule.path.split("/"), given);
    if (params === undefined) continue;
    const first = Object.values(params)[0];
    return { rule, target: first ?? null, app: params.app ?? null };
  }
  return { rule: undefined, target: null, app: null };
}

/** What a request needs when no row matches it. */
export const UNLISTED_ROLE: RankedRole = "admin";

function matchPath(
  pattern: readonly string[],
  given: readonly string[],
): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [i, part] of pattern.entries()) {
    if (part === "*" && i === pattern.length - 1) return params;
    const value = given[i];
    if (value === undefined) return undefined;
    if (part.startsWith(":")) {
      if (value === "") return undefined;
      params[part.slice(1)] = decoded(value);
    } else if (part !== value) return undefined;
  }
  return given.length === pattern.length ? params : undefined;
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
