import type { IncomingMessage } from "node:http";
import { answer, routes } from "../api/routes.js";
import type { NewSilence } from "../controller/alert-service.js";
import type { Controller } from "../controller/index.js";
import { parseDuration } from "../definition/index.js";
import { parseMatcher } from "../observe/alerts/silences.js";
import type { LabelMatcher } from "../observe/series.js";
import { HttpError } from "./http-error.js";

/**
 * `GET /api/v1/alerts`, `POST /api/v1/silences`, `DELETE /api/v1/silences/:id`; undefined when
 * the request is none of them. Answers hold labels and receiver names, never notifier URLs.
 */
export async function alertRoute(
  controller: Controller,
  req: IncomingMessage,
  url: URL,
  readJson: (req: IncomingMessage) => Promise<Record<string, unknown>>,
  /** Who asks, from the request's token: a `by` the request carries is not read. */
  by: string,
): Promise<unknown> {
  const route = `${req.method} ${url.pathname}`;
  if (route === "GET /api/v1/alerts") {
    const limit = Number.parseInt(url.searchParams.get("history") ?? "50", 10);
    const history = Number.isFinite(limit) && limit > 0 ? Math.min(limit, 1000) : 50;
    return answer(routes.alerts, controller.alerts.view(history));
  }
  if (route === "GET /api/v1/silences") {
    return answer(routes.silences, { silences: controller.alerts.view(0).silences });
  }
  if (route === "POST /api/v1/silences") {
    const silence = controller.alerts.addSilence(silenceRequest(await readJson(req), by));
    return answer(routes.addSilence, { silence });
  }
  const remove = /^\/api\/v1\/silences\/([^/]+)$/.exec(url.pathname);
  if (req.method === "DELETE" && remove) {
    const id = decodeURIComponent(remove[1] ?? "");
    controller.alerts.removeSilence(id, by);
    return answer(routes.removeSilence, { removed: id });
  }
  return undefined;
}

/** `{ matchers: ["app=api", "crash-loop"], for: "2h" | until: ISO-or-ms, comment, by }`. */
function silenceRequest(body: Record<string, unknown>, createdBy: string): NewSilence {
  const matchers = body.matchers;
  if (!Array.isArray(matchers) || matchers.length === 0) {
    throw new HttpError(
      "silence.invalid",
      'matchers must be a non-empty list such as ["alertname=crash-loop", "app=api"]',
    );
  }
  const parsed: LabelMatcher[] = matchers.map((m) => {
    if (typeof m !== "string") {
      throw new HttpError("silence.invalid", "each matcher is a string such as app=api");
    }
    try {
      // A bare name is the alert's name: `baton silence add crash-loop`.
      return /[=~]/.test(m) ? parseMatcher(m) : { label: "alertname", op: "=", value: m.trim() };
    } catch (error) {
      throw new HttpError("silence.invalid", (error as Error).message);
    }
  });
  const comment = typeof body.comment === "string" ? body.comment : "";
  const common = { matchers: parsed, comment, createdBy };
  if (body.for !== undefined) {
    const forMs =
      typeof body.for === "number" ? body.for : (parseDuration(String(body.for)) ?? Number.NaN);
    if (!Number.isFinite(forMs) || forMs <= 0) {
      throw new HttpError(
        "silence.invalid",
        `for must be a duration such as 2h or 30m, got ${JSON.stringify(body.for)}`,
      );
    }
    return { ...common, forMs };
  }
  if (body.until !== undefined) {
    const until = typeof body.until === "number" ? body.until : Date.parse(String(body.until));
    if (!Number.isFinite(until)) {
      throw new HttpError(
        "silence.invalid",
        `until must be a time such as 2026-01-01T12:00:00Z, got ${JSON.stringify(body.until)}`,
      );
    }
    return { ...common, until };
  }
  throw new HttpError("silence.invalid", "a silence needs `for` (e.g. 2h) or `until`");
}
