import { describe, expect, expectTypeOf, it } from "vitest";
import {
  type AnswerOf,
  type AppHistory,
  type ControllerStatus,
  errorBodyOf,
  type Route,
  routes,
} from "../../../src/api/index.js";

/** The query parameters of a built path, as the server reads them. */
function params(path: string): URLSearchParams {
  return new URL(path, "http://controller").searchParams;
}

describe("a route builder", () => {
  it("encodes what it puts in a path, so a name cannot reach another route", () => {
    expect(routes.history("web api/../status")).toEqual({
      method: "GET",
      path: "/api/v1/apps/web%20api%2F..%2Fstatus/history",
    });
    expect(routes.removeSilence("s/1?x", { by: "ann@box" })).toEqual({
      method: "DELETE",
      path: "/api/v1/silences/s%2F1%3Fx?by=ann%40box",
    });
    expect(routes.triggerRun("api#2", { ref: "v1.2" })).toEqual({
      method: "POST",
      path: "/api/v1/pipelines/api%232/runs",
      body: { ref: "v1.2" },
    });
  });

  it("writes a query string only with what was given, a flag as 1, a list as repeated keys", () => {
    expect(routes.status().path).toBe("/api/v1/status");
    expect(routes.status({ stats: true }).path).toBe("/api/v1/status?stats=1");
    expect(routes.status({ stats: false }).path).toBe("/api/v1/status");
    const metric = routes.metric({
      name: "baton_http_requests_total",
      since: "1h",
      match: ["app=api", "code=~5.."],
    });
    expect(params(metric.path).get("name")).toBe("baton_http_requests_total");
    expect(params(metric.path).getAll("match")).toEqual(["app=api", "code=~5.."]);
    expect(params(metric.path).has("step")).toBe(false);
    const query = routes.query({ expr: 'rate(x{app="a b"}[5m]) > 0.5' });
    expect(params(query.path).get("expr")).toBe('rate(x{app="a b"}[5m]) > 0.5');
    const logs = routes.logs({ target: "run/12", where: ["level=error"], follow: true, tail: 5 });
    expect(Object.fromEntries(params(logs.path))).toEqual({
      target: "run/12",
      where: "level=error",
      follow: "1",
      tail: "5",
    });
    expect(routes.eventStream({ app: "web", after: "latest" }).path).toBe(
      "/api/v1/events/stream?app=web&after=latest",
    );
  });

  it("carries the type of the answer its request gets", () => {
    expectTypeOf(routes.history("web")).toEqualTypeOf<Route<AppHistory>>();
    expectTypeOf<AnswerOf<typeof routes.status>>().toEqualTypeOf<ControllerStatus>();
  });
});

describe("an error answer", () => {
  it("is read field by field, what is missing named after the status", () => {
    expect(
      errorBodyOf({ error: { code: "api.not_found", message: "no such endpoint", hint: 3 } }, 404),
    ).toEqual({ code: "api.not_found", message: "no such endpoint" });
    expect(errorBodyOf({ error: "upstream timed out" }, 502)).toEqual({
      code: "api.http_502",
      message: "HTTP 502",
    });
    expect(errorBodyOf(null, 500)).toEqual({ code: "api.http_500", message: "HTTP 500" });
  });
});
