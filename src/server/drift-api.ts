/**
 * `POST /api/v1/drift` `{targets?: [host or group names, or "all"]}`: `baton drift` run by
 * the controller's drift watch, so that what it finds reaches the event stream and the
 * alerts. Answers `{hosts: [HostOutcome]}` (commands left out: they have no state to drift
 * from); `404 hosts.unknown_target` for a name that is no host or group.
 */
import type { IncomingMessage } from "node:http";
import type { DriftAnswer } from "../api/hosts.js";
import type { Controller } from "../controller/index.js";
import { HttpError } from "./http-error.js";

export type { DriftAnswer };

/** The answer when the request is the drift route; undefined otherwise. */
export async function driftRoute(
  controller: Controller,
  req: IncomingMessage,
  url: URL,
  readJson: (req: IncomingMessage) => Promise<Record<string, unknown>>,
): Promise<DriftAnswer | undefined> {
  if (req.method !== "POST" || url.pathname !== "/api/v1/drift") return undefined;
  const targets = (await readJson(req)).targets ?? [];
  if (!Array.isArray(targets) || !targets.every((t) => typeof t === "string")) {
    throw new HttpError(
      "api.invalid_body",
      `targets must be a list of host or group names, found ${JSON.stringify(targets)}`,
      { hint: 'send {"targets": ["web1", "db"]}, or {} for every host of the environment' },
    );
  }
  return { hosts: await controller.checkDrift(targets) };
}
