/**
 * The revision of an app: a hash of what its replicas are made of. Two apps with the same
 * revision run identical processes, so a change of revision means "replace the replicas"
 * and anything left out of it (replicas, port, protocol, update) is changed in place: scaling
 * or reconfiguring the proxy never restarts a replica. The content of the app's folder is
 * in it: editing a config file is a new revision like editing the command.
 */
import { createHash } from "node:crypto";
import type { AppSpec } from "./model.js";
import { DEFAULTS } from "./schema.js";
import { parseDuration } from "./units.js";

const DEFAULT_LOG_MAX_AGE_MS = parseDuration(DEFAULTS.logs.maxAge);

/** 12 hex characters: short enough for plans and logs, 48 bits against collisions. */
const REVISION_LENGTH = 12;

export function appRevision(app: AppSpec): string {
  return createHash("sha256")
    .update(canonicalJson(revisionContent(app)))
    .digest("hex")
    .slice(0, REVISION_LENGTH);
}

/**
 * What the revision is a hash of: a plan compares two revisions' contents field by field
 * to say why one replaces the other.
 */
export function revisionContent(app: AppSpec): Record<string, unknown> {
  return {
    command: app.command,
    cwd: app.cwd,
    content: app.contentDigest === "" ? undefined : app.contentDigest,
    // Absent for processes, so that process apps keep the revisions they had.
    container: app.container,
    env: app.env,
    // Absent unless written, so that apps without them keep the revisions they had.
    runAs: app.runAs,
    inheritEnv: app.inheritEnv,
    // Absent without secrets, so that apps that use none keep the revisions they had.
    secretEnv: app.secretEnv,
    secretFiles: app.secretFiles,
    secrets: app.secretDigests,
    health: app.health,
    restart: app.restart,
    stopGraceMs: app.stopGraceMs,
    // The default age limit is left out: apps that say nothing keep the revisions they had.
    logs:
      app.logs.maxAgeMs === DEFAULT_LOG_MAX_AGE_MS
        ? { maxBytes: app.logs.maxBytes, maxFiles: app.logs.maxFiles }
        : app.logs,
  };
}

/** JSON with object keys sorted at every level, so that key order never changes a hash. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
