import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { EXPOSITION_CONTENT_TYPE, renderExposition } from "../../src/observe/exposition.js";
import { realisticFamilies } from "../fixtures/observe/families.js";
import { promtool, type RunningPrometheus, startPrometheus } from "../helpers/prometheus.js";
import { eventually } from "../helpers/wait.js";

describe("the exposition, checked by the real Prometheus tools", () => {
  it("passes `promtool check metrics` with no complaint", async () => {
    const text = renderExposition(realisticFamilies());
    const result = await promtool(["check", "metrics"], text);
    expect(result).toEqual({ code: 0, output: "" });
  });

  it("is checked for real: promtool does flag text that breaks its rules", async () => {
    const bad = "# HELP requests Requests.\n# TYPE requests counter\nrequests 1\n";
    const result = await promtool(["check", "metrics"], bad);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/_total/);
  });

  describe("scraped by a real Prometheus on loopback", () => {
    let server: Server | undefined;
    let prometheus: RunningPrometheus | undefined;

    afterAll(async () => {
      await prometheus?.stop();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    });

    it("ingests every family, with escaped label values intact", async () => {
      server = createServer((req, res) => {
        if (req.url !== "/metrics") {
          res.writeHead(404).end();
          return;
        }
        const body = renderExposition(realisticFamilies());
        res.writeHead(200, { "content-type": EXPOSITION_CONTENT_TYPE }).end(body);
      });
      await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as AddressInfo;
      prometheus = await startPrometheus([`127.0.0.1:${port}`]);
      const running = prometheus;

      const up = await eventually(
        "Prometheus has scraped the target once",
        () => running.query('up{job="baton"}'),
        (r) => r.length === 1 && r[0]?.value[1] === "1",
        30_000,
      );
      expect(up[0]?.metric.instance).toBe(`127.0.0.1:${port}`);

      const restarts = await running.query("baton_replica_restarts_total");
      expect(
        restarts
          .map((r) => [r.metric.app, r.value[1]])
          .sort(([a], [b]) => String(a).localeCompare(String(b))),
      ).toEqual([
        ["api", "3"],
        ['quote"back\\slash\nnewline', "1"],
        ["web", "0"],
      ]);
      const ready = await running.query('baton_app_ready_replicas{app="api"}');
      expect(ready.map((r) => r.value[1])).toEqual(["2"]);
      const requests = await running.query("sum by (app) (baton_http_requests_total)");
      expect(Object.fromEntries(requests.map((r) => [r.metric.app, r.value[1]]))).toEqual({
        api: "1030",
        web: "12",
      });
      const count = await running.query('baton_http_request_duration_seconds_count{app="api"}');
      expect(count.map((r) => r.value[1])).toEqual(["1028"]);
      const median = await running.query(
        'histogram_quantile(0.5, baton_http_request_duration_seconds_bucket{app="api"})',
      );
      // 514th of 1028 falls in the (0.01, 0.025] bucket.
      const p50 = Number(median[0]?.value[1]);
      expect(p50).toBeGreaterThan(0.01);
      expect(p50).toBeLessThanOrEqual(0.025);
      const nan = await running.query('baton_app_error_ratio{app="idle"}');
      expect(nan.map((r) => r.value[1])).toEqual(["NaN"]);
    });
  });
});
