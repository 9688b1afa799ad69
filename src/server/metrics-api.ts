/**
 * The metrics routes of the controller API: `GET /metrics`, the Prometheus text format a
 * scraper reads (with the same bearer token as every route), and `GET /api/v1/metrics`,
 * the names or one metric's series as JSON for `baton metrics` and `baton top`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { MetricsAnswer, MetricsListAnswer } from "../api/metrics.js";
import { parseDuration } from "../definition/units.js";
import {
  EXPOSITION_CONTENT_TYPE,
  type LabelMatcher,
  type MetricsStore,
  renderStoreExposition,
  type Series,
} from "../observe/index.js";
import { HttpError } from "./http-error.js";

/** A series whose newest sample is older than this is no longer exposed (a replica gone). */
const EXPOSED_STALENESS_MS = 60_000;
const DEFAULT_SINCE_MS = 3_600_000;
/** More points than this in one answer ask for a `step`. */
const MAX_POINTS = 200_000;

/**
 * Answers the request when it is a metrics route and returns true; false otherwise.
 * `now` is the controller's clock.
 */
export function metricsRoute(
  store: MetricsStore,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  now: number,
): boolean {
  if (req.method !== "GET") return false;
  if (url.pathname === "/metrics") {
    const text = renderStoreExposition(store, now - EXPOSED_STALENESS_MS);
    res.writeHead(200, {
      "content-type": EXPOSITION_CONTENT_TYPE,
      "content-length": Buffer.byteLength(text),
    });
    res.end(text);
    return true;
  }
  if (url.pathname !== "/api/v1/metrics") return false;
  const body = JSON.stringify(metricsQuery(store, url.searchParams, now));
  res.writeHead(200, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
  return true;
}

/** `name` absent: every declared metric. Else that metric's series over `since` (default 1h). */
export function metricsQuery(
  store: MetricsStore,
  params: URLSearchParams,
  now: number,
): MetricsAnswer | MetricsListAnswer {
  const name = params.get("name");
  if (name === null || name === "") return { metrics: store.declarations() };
  if (!store.names().includes(name)) {
    throw new HttpError("metrics.unknown", `there is no metric named ${JSON.stringify(name)}`, {
      hint: "`baton metrics` lists the names (GET /api/v1/metrics)",
    });
  }
  const since = durationParam(params, "since") ?? DEFAULT_SINCE_MS;
  const step = durationParam(params, "step");
  const matchers = params.getAll("match").map(parseMatch);
  const from = now - since;
  const series = store.select({ name, matchers }, from, now);
  const points = series.reduce((n, s) => n + s.samples.length, 0);
  if (step === undefined && points > MAX_POINTS) {
    throw new HttpError(
      "metrics.too_many_points",
      `${name} has ${points} samples since ${params.get("since") ?? "1h"}`,
      { hint: "ask for fewer with a shorter since=, a match=, or a step= (e.g. step=1m)" },
    );
  }
  const declaration = store.declaration(name);
  return {
    name,
    kind: declaration?.kind ?? "gauge",
    help: declaration?.help ?? "",
    unit: declaration?.unit ?? "",
    from,
    to: now,
    step: step ?? null,
    series: series.map((s) => ({ labels: s.labels, samples: thinned(s, step) })),
  };
}

/** The last sample of each step (steps aligned on multiples of `step` since the epoch). */
function thinned(series: Series, step: number | undefined): [number, number][] {
  const out: [number, number][] = [];
  let lastBucket = Number.NaN;
  for (const sample of series.samples) {
    if (step === undefined) {
      out.push([sample.at, sample.value]);
      continue;
    }
    const bucket = Math.floor(sample.at / step);
    if (bucket === lastBucket) out[out.length - 1] = [sample.at, sample.value];
    else out.push([sample.at, sample.value]);
    lastBucket = bucket;
  }
  return out;
}

function durationParam(params: URLSearchParams, name: string): number | undefined {
  const text = params.get(name);
  if (text === null || text === "") return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    throw new HttpError(
      "metrics.invalid_duration",
      `${name}=${JSON.stringify(text)} is not a duration`,
      { hint: `write it like 30s, 15m or 1h` },
    );
  }
  return ms;
}

/** `app=api`, `code!=200`, `code=~5..`, `app!~test-.*` */
export function parseMatch(text: string): LabelMatcher {
  const match = /^([a-zA-Z_][a-zA-Z0-9_]*)(=~|!~|!=|=)(.*)$/.exec(text);
  if (match === null) {
    throw new HttpError(
      "metrics.invalid_match",
      `match=${JSON.stringify(text)} is not a label matcher`,
      { hint: "write LABEL=VALUE (or !=, =~ REGEX, !~ REGEX), e.g. match=app%3Dapi" },
    );
  }
  const [, label = "", op = "=", value = ""] = match;
  if (op === "=~" || op === "!~") {
    try {
      new RegExp(value);
    } catch (error) {
      throw new HttpError(
        "metrics.invalid_match",
        `match=${JSON.stringify(text)}: ${(error as Error).message}`,
        { hint: "the value of =~ and !~ is a regular expression" },
      );
    }
  }
  return { label, op: op as LabelMatcher["op"], value };
}
