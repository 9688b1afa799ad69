/**
 * `GET /api/v1/query?expr=EXPR[&at=MS]`: an expression of the alert rules' PromQL subset,
 * evaluated over the controller's metrics at one instant — what an alert would see, so an
 * operator can try a rule before writing it (`baton query`).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { QueryAnswer, QueryValue } from "../api/metrics.js";
import { evaluate, parseExpr, type SeriesSource } from "../observe/index.js";
import { HttpError } from "./http-error.js";

/** Answers the request when it is the query route and returns true; false otherwise. */
export function queryRoute(
  source: SeriesSource,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  now: number,
): boolean {
  if (req.method !== "GET" || url.pathname !== "/api/v1/query") return false;
  const body = JSON.stringify(query(source, url.searchParams, now));
  res.writeHead(200, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
  return true;
}

export function query(source: SeriesSource, params: URLSearchParams, now: number): QueryAnswer {
  const text = params.get("expr");
  if (text === null || text.trim() === "") {
    throw new HttpError("query.missing_expr", "expr= is missing", {
      hint: 'pass the expression, e.g. expr=http_error_ratio{app="api"} (URL-encoded)',
    });
  }
  const at = atParam(params.get("at"), now);
  // A mistake in it is an ExprError: answered with its place, what was expected and found.
  const parsed = parseExpr(text);
  const result = evaluate(parsed, source, at).map((e) => ({
    labels: e.labels,
    value: jsonValue(e.value),
  }));
  return { expr: text, at, result };
}

function atParam(text: string | null, now: number): number {
  if (text === null || text === "") return now;
  const at = Number(text);
  if (!Number.isFinite(at) || at <= 0) {
    throw new HttpError("query.invalid_at", `at=${JSON.stringify(text)} is not a time`, {
      hint: "write milliseconds since the epoch, or leave at= out for now",
    });
  }
  return at;
}

function jsonValue(value: number): QueryValue {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return value;
}
