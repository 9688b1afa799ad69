import { describe, expect, it } from "vitest";
import { ErrorRatio } from "../../../src/observe/collect/error-ratio.js";

const requests = (at: number, ok: number, failed: number) => [
  { name: "baton_http_requests_total", labels: { app: "api", code: "200" }, at, value: ok },
  { name: "baton_http_requests_total", labels: { app: "api", code: "502" }, at, value: failed },
  { name: "baton_http_requests_total", labels: { app: "web", code: "200" }, at, value: 5 },
];

describe("http_error_ratio", () => {
  it("is the share of 5xx answers over the last minute, per app", () => {
    const ratio = new ErrorRatio();
    const value = (at: number, ok: number, failed: number, app = "api") =>
      ratio.observe(requests(at, ok, failed), at).find((s) => s.labels.app === app)?.value;
    expect(value(0, 100, 0)).toBe(0); // one reading: no window yet
    expect(value(30_000, 190, 10)).toBe(0.1); // 90 ok + 10 failed since 0
    expect(value(60_000, 280, 20)).toBeCloseTo(20 / 200); // the window starts at 0
    expect(value(90_000, 380, 20)).toBeCloseTo(10 / 200); // from 30 s: +190 ok, +10 failed
    expect(value(90_000, 380, 20, "web")).toBe(0); // no requests: 0, not NaN
    // Counters that went down (the proxy restarted) start a new window.
    expect(value(100_000, 3, 1)).toBe(0);
    expect(value(110_000, 6, 4)).toBeCloseTo(3 / 6);
  });

  it("counts from the route's start when its first requests came before the first reading", () => {
    const ratio = new ErrorRatio();
    const start = { name: "baton_proxy_route_start_time_seconds", labels: { app: "api" } };
    const first = ratio.observe(
      [...requests(50_000, 15, 5), { ...start, at: 50_000, value: 40 }],
      50_000,
    );
    expect(first.find((s) => s.labels.app === "api")?.value).toBe(0.25);
    // A route that started long before the window: no base yet, as before.
    const old = new ErrorRatio().observe(
      [...requests(500_000, 15, 5), { ...start, at: 500_000, value: 40 }],
      500_000,
    );
    expect(old.find((s) => s.labels.app === "api")?.value).toBe(0);
  });
});
