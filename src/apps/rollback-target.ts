/**
 * Which revision `baton rollback` goes back to, the same for every runtime: the one asked
 * for (a revision or an unambiguous prefix), else the last that rolled out before the
 * current one. The reconcilers then roll to it their own way.
 */
import { BatonError } from "../api/errors.js";
import type { RolloutStorePort } from "./rollout-journal.js";

/** A rollback the user asked for cannot be done as asked. */
export class RollbackError extends BatonError {
  constructor(code: string, message: string, hint?: string) {
    super(code, message, { hint });
    this.name = "RollbackError";
  }
}

export function rollbackTarget(
  store: Pick<RolloutStorePort, "history" | "revisionsStartingWith">,
  app: string,
  current: string,
  to: string | undefined,
): string {
  if (to === undefined) {
    const previous = store
      .history(app)
      .find((r) => r.state === "rolled-out" && r.toRevision !== current);
    if (previous === undefined) {
      throw new RollbackError(
        "rollback.no_previous",
        `${app} has no earlier revision that rolled out to go back to`,
        `see \`baton history ${app}\``,
      );
    }
    return previous.toRevision;
  }
  const matches = store.revisionsStartingWith(app, to);
  const [only] = matches;
  if (matches.length !== 1 || only === undefined) {
    throw new RollbackError(
      "rollback.unknown_revision",
      matches.length === 0
        ? `${app} never had a revision ${JSON.stringify(to)}`
        : `${JSON.stringify(to)} matches ${matches.length} revisions of ${app}: ${matches.map((m) => m.revision).join(", ")}`,
      `pick one from \`baton history ${app}\``,
    );
  }
  return only.revision;
}
