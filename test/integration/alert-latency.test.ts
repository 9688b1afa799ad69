import { afterEach, describe, expect, it } from "vitest";
import { freePort, Project, TEST_APP } from "../helpers/cli.js";
import { get } from "../helpers/http.js";
import { eventually } from "../helpers/wait.js";

let project: Project | undefined;
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
});

interface AlertsJson {
  active: { rule: string; state: string; labels: Record<string, string>; value: number | null }[];
}

describe("a latency alert on the proxy's histogram", () => {
  it("histogram_quantile over baton_http_request_duration_seconds fires when answers slow down", async () => {
    const port = await freePort();
    project = new Project(`apps:
  api:
    command: ["${process.execPath}", "${TEST_APP}"]
    port: ${port}
    health: { readiness: { http: /healthz, interval: 200ms } }
alerts:
  - name: api-slow
    expr: histogram_quantile(0.9, sum by (app, le) (rate(baton_http_request_duration_seconds_bucket{app="api"}[1m]))) > 0.4
    for: 0s
alerting:
  evaluationInterval: 200ms
metrics: { interval: 200ms }
`);
    const p = project;
    await p.ok("up", "--detach");
    await p.ok("wait", "--timeout", "30s");
    const active = async () => ((await p.api("/api/v1/alerts")) as AlertsJson).active;
    // Fast answers only: the 90th percentile is far below 0.4 s, nothing fires.
    for (let i = 0; i < 20; i++) expect((await get(port, "/")).status).toBe(200);
    await eventually(
      "the request counts reach the metrics store",
      async () =>
        (await p.ok("metrics", "baton_http_requests_total", "--app", "api", "--json")).stdout,
      (out) => out.includes('"code": "200"'),
      15_000,
    );
    expect((await active()).filter((a) => a.rule === "api-slow")).toEqual([]);

    // Every answer now takes 600 ms: the 90th percentile lands in the (0.5, 1] bucket.
    await Promise.all(Array.from({ length: 30 }, () => get(port, "/slow?ms=600")));
    const fired = await eventually(
      "api-slow fires",
      active,
      (alerts) => alerts.some((a) => a.rule === "api-slow" && a.state === "firing"),
      30_000,
    );
    const alert = fired.find((a) => a.rule === "api-slow");
    expect(alert?.labels).toMatchObject({ alertname: "api-slow", app: "api" });
    expect(alert?.value).toBeGreaterThan(0.5);
    expect(alert?.value).toBeLessThanOrEqual(1);

    // `baton query` shows what the rule sees, from the same store.
    const expr =
      'histogram_quantile(0.9, sum by (app, le) (rate(baton_http_request_duration_seconds_bucket{app="api"}[1m])))';
    const answer = JSON.parse((await p.ok("query", expr, "--json")).stdout) as {
      result: { labels: Record<string, string>; value: number }[];
    };
    expect(answer.result).toHaveLength(1);
    expect(answer.result[0]?.labels).toEqual({ app: "api" });
    expect(answer.result[0]?.value).toBeGreaterThan(0.5);
    expect((await p.ok("query", `${expr} > 0.4`)).stdout).toMatch(/app="api"\s+0\.\d+/);
    expect((await p.ok("query", `${expr} > 5`)).stdout).toMatch(/no series/);
    // A mistake: the API answers 400 with where and what; the CLI shows it under the text.
    const bad = (await p.api(`/api/v1/query?expr=${encodeURIComponent("sum(rate(x))")}`)) as {
      error: { code: string; column: number; hint: string };
    };
    expect(bad.error).toMatchObject({ code: "expr.type", column: 10 });
    const cli = await p.run("query", "sum(rate(x))");
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain("sum(rate(x))\n           ^");
  });
});
