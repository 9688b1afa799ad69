import { describe, expect, it } from "vitest";
import { LATENCY_BUCKETS_S, RouteStats } from "../../../src/apps/proxy/route-stats.js";

describe("RouteStats", () => {
  it("counts exact codes and fills a cumulative histogram with inclusive upper bounds", () => {
    const stats = new RouteStats(1_000);
    stats.observe(200, 5); // exactly 0.005 s: inside the first bucket (le is inclusive)
    stats.observe(200, 5.001);
    stats.observe(502, 120);
    stats.observe(200, 60_000); // above every bound: only in +Inf (count)
    const snap = stats.snapshot("web", "http");
    expect(snap.since).toBe(1_000);
    expect(snap.requests).toEqual({ "200": 3, "502": 1 });
    expect(snap.duration?.bucketsS).toEqual(LATENCY_BUCKETS_S);
    expect(snap.duration?.cumulative).toEqual([1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3]);
    expect(snap.duration?.count).toBe(4);
    expect(snap.duration?.sumS).toBeCloseTo((5 + 5.001 + 120 + 60_000) / 1000, 9);
  });

  it("reports connections and bytes, and nothing of requests for a TCP route", () => {
    const stats = new RouteStats();
    stats.connectionsTotal += 2;
    stats.openConnections += 1;
    stats.bytesIn += 10;
    stats.bytesOut += 20;
    const snap = stats.snapshot("db", "tcp");
    expect(snap).toEqual({
      app: "db",
      protocol: "tcp",
      since: stats.since,
      openConnections: 1,
      connectionsTotal: 2,
      bytesIn: 10,
      bytesOut: 20,
    });
  });

  it("keeps a code outside 100-599 as 'other' rather than dropping the request", () => {
    const stats = new RouteStats();
    stats.observe(999, 1);
    expect(stats.snapshot("web", "http").requests).toEqual({ other: 1 });
  });
});
