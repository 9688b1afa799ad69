/**
 * The hosts' one-shot passes through the controller, so that what they find is recorded by
 * the one process that holds the state and reaches the event stream and the alerts:
 * - `POST /api/v1/drift` `{targets?}`: `baton drift`, run by the controller's drift watch;
 *   `{hosts: [HostOutcome]}` (commands left out: they have no state to drift from);
 * - `POST /api/v1/hosts/facts` `{targets?}`: `baton facts`, kept in the state;
 * - `POST /api/v1/parity` `{left, right}`: `baton parity`, two environments' hosts compared.
 * A name that is no host or group is `404 hosts.unknown_target`.
 */
import type { IncomingMessage } from "node:http";
import type { DriftAnswer, FactsAnswer, ParityAnswer } from "../api/hosts.js";
import { answer, routes } from "../api/routes.js";
import type { Controller } from "../controller/index.js";
import { HttpError } from "./http-error.js";

/** The answer when the request is one of the hosts' routes; undefined otherwise. */
export async function hostsRoute(
  controller: Controller,
  req: IncomingMessage,
  url: URL,
  readJson: (req: IncomingMessage) => Promise<Record<string, unknown>>,
): Promise<DriftAnswer | FactsAnswer | ParityAnswer | undefined> {
  if (req.method !== "POST") return undefined;
  if (url.pathname === "/api/v1/drift") {
    const targets = targetsOf(await readJson(req));
    return answer(routes.drift, { hosts: await controller.checkDrift(targets) });
  }
  if (url.pathname === "/api/v1/hosts/facts") {
    return answer(routes.facts, await controller.facts(targetsOf(await readJson(req))));
  }
  if (url.pathname === "/api/v1/parity") {
    const body = await readJson(req);
    const { left, right } = body;
    if (typeof left !== "string" || typeof right !== "string" || left === "" || right === "") {
      throw new HttpError(
        "api.invalid_body",
        `expected {"left": ENV, "right": ENV}, found ${JSON.stringify(body)}`,
        { hint: 'send {"left": "dev", "right": "prod"}' },
      );
    }
    return answer(routes.parity, await controller.parity(left, right));
  }
  return undefined;
}

function targetsOf(body: Record<string, unknown>): string[] {
  const targets = body.targets ?? [];
  if (!Array.isArray(targets) || !targets.every((t) => typeof t === "string")) {
    throw new HttpError(
      "api.invalid_body",
      `targets must be a list of host or group names, found ${JSON.stringify(targets)}`,
      { hint: 'send {"targets": ["web1", "db"]}, or {} for every host of the environment' },
    );
  }
  return targets;
}
