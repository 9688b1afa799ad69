/**
 * The HTTP status of each error the API answers, from its code alone, so that a status is
 * decided here once and not at each throw. First the exact codes, then the areas whose every
 * code shares a status, then what the code says of itself (`*.not_found`, `*.invalid_*`);
 * any other error a user can cause is a conflict with the current state of things (409).
 */

const EXACT: Readonly<Record<string, number>> = {
  "api.unauthorized": 401,
  // A token whose role does not include what the route needs; an approver's own run.
  "api.forbidden": 403,
  "api.too_large": 413,
  "api.starting": 503,
  "metrics.too_many_points": 422,
  // The run's files were removed by retention: they existed, and are gone for good.
  "run.pruned": 410,
  "logs.no_run": 404,
  // Waiting for its first definition: ask again once one is applied.
  "controller.no_definition": 503,
  // What a client uploads: too large for the controller, or not yet there.
  "content.too_large": 413,
  "content.blobs_missing": 409,
  "content.blob_missing": 409,
};

/** First match wins: an area's status holds over what its codes' names suggest. */
const AREAS: readonly (readonly [prefix: string, status: number])[] = [
  // A definition, or a plan made from it, that cannot be used: its diagnostics say why.
  ["spec.", 422],
  ["engine.", 422],
  // An expression or query parameter that does not parse.
  ["expr.", 400],
  ["query.", 400],
  // The app's rollouts or releases refuse it as they stand (`unknown_revision` included).
  ["rollback.", 409],
  ["rollout.", 409],
  ["deploy.", 409],
  // A logs query that does not parse (`--since`, `--tail`, `--where`).
  ["logs.invalid", 400],
  // A blob or manifest that does not hash to its name, a path the client did not send.
  ["content.", 400],
];

const KINDS: readonly (readonly [pattern: RegExp, status: number])[] = [
  // run.not_found, silence.not_found, delivery.branch-not-found
  [/[._-]not[_-]found$/, 404],
  // controller.unknown_app, metrics.unknown
  [/\.unknown(_|$)/, 404],
  // api.invalid_json, silence.invalid, metrics.invalid_match
  [/\.invalid(_|$)/, 400],
];

/** A user error that names no other status: the request is fine, the state refuses it. */
const CONFLICT = 409;

/** The status for an error code; `internal` (a bug, not a BatonError) is 500. */
export function httpStatusOf(code: string): number {
  if (code === "internal") return 500;
  const exact = EXACT[code];
  if (exact !== undefined) return exact;
  for (const [prefix, status] of AREAS) if (code.startsWith(prefix)) return status;
  for (const [pattern, status] of KINDS) if (pattern.test(code)) return status;
  return CONFLICT;
}
