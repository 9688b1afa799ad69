import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, Project } from "../helpers/cli.js";
import { get } from "../helpers/http.js";
import { promtool, type RunningPrometheus, startPrometheus } from "../helpers/prometheus.js";
import { eventually } from "../helpers/wait.js";

/** A replica that answers 500 on /fail, so the proxy counts errors too. */
const APP = `const http = require("node:http");
http.createServer((req, res) => {
  if (req.url === "/healthz") return res.end("ok\\n");
  if (req.url.startsWith("/fail")) { res.writeHead(500); return res.end("failed on purpose\\n"); }
  res.end("hello\\n");
}).listen(Number(process.env.PORT), "127.0.0.1");
`;

function definition(port: number): string {
  return `apps:
  web:
    command: ["node", "app.cjs"]
    replicas: 2
    port: ${port}
    health:
      readiness: { http: /healthz, interval: 1s, timeout: 1s }
`;
}

interface Exposed {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The samples of a text exposition (no timestamps: Baton writes none). */
function parseExposition(text: string): Exposed[] {
  const out: Exposed[] = [];
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (match[2] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[k as string] = v as string;
    }
    out.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return out;
}

function sampleValue(samples: readonly Exposed[], name: string, labels: Record<string, string>) {
  return samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}

let project: Project | undefined;
let prometheus: RunningPrometheus | undefined;
afterEach(async () => {
  await prometheus?.stop();
  prometheus = undefined;
  await project?.cleanup();
  project = undefined;
});

describe("metrics end to end", () => {
  it("samples apps and the proxy, serves /metrics to Prometheus, baton metrics and top", async () => {
    const port = await freePort();
    project = new Project(definition(port), { "app.cjs": APP });
    await project.ok("up", "--detach");
    await project.ok("wait", "--timeout", "30s");
    const p = project;
    const { controller } = await p.status();
    const tokenFile = join(p.stateDir, "api-token");
    const token = readFileSync(tokenFile, "utf8").trim();
    const scrape = async (): Promise<string> => {
      const res = await fetch(`${controller.api}/metrics`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      return res.text();
    };

    // Without the token: refused, like every route of the API.
    expect((await fetch(`${controller.api}/metrics`)).status).toBe(401);

    // Bounded traffic through the proxy: 40 answered, 8 failing with 500.
    for (let i = 0; i < 40; i++) expect((await get(port, "/")).status).toBe(200);
    for (let i = 0; i < 8; i++) expect((await get(port, "/fail")).status).toBe(500);

    const first = await eventually(
      "/metrics counts every request by code and both replicas ready",
      async () => parseExposition(await scrape()),
      (s) =>
        sampleValue(s, "baton_http_requests_total", { app: "web", code: "200" }) === 40 &&
        sampleValue(s, "baton_http_requests_total", { app: "web", code: "500" }) === 8 &&
        sampleValue(s, "baton_app_ready_replicas", { app: "web" }) === 2,
    );
    const total = first
      .filter((s) => s.name === "baton_http_requests_total" && s.labels.app === "web")
      .reduce((n, s) => n + s.value, 0);
    expect(total).toBe(48);
    expect(sampleValue(first, "baton_http_request_duration_seconds_count", { app: "web" })).toBe(
      48,
    );
    expect(sampleValue(first, "baton_app_desired_replicas", { app: "web" })).toBe(2);
    const restartsBefore = sampleValue(first, "baton_replica_restarts_total", { app: "web" });
    expect(restartsBefore).toBe(0);
    expect(first.some((s) => s.name === "baton_replica_memory_bytes")).toBe(true);
    expect(first.some((s) => s.name === "baton_controller_resident_memory_bytes")).toBe(true);
    // The alert example reads http_error_ratio{app}: 5xx answers were among the requests.
    await eventually(
      "http_error_ratio sees the 500s",
      async () => parseExposition(await scrape()),
      (s) => (sampleValue(s, "http_error_ratio", { app: "web" }) ?? 0) > 0,
    );
    // Health checks: each ready replica's readiness probe has run and last passed.
    const readiness = first.filter(
      (s) =>
        s.name === "baton_probe_success" &&
        s.labels.app === "web" &&
        s.labels.probe === "readiness",
    );
    expect(readiness.length).toBeGreaterThanOrEqual(2);
    for (const probe of readiness) expect(probe.value).toBe(1);
    expect(
      sampleValue(first, "baton_probe_checks_total", { app: "web", probe: "readiness" }),
    ).toBeGreaterThan(0);
    expect(
      first.some((s) => s.name === "baton_probe_duration_seconds" && s.labels.app === "web"),
    ).toBe(true);

    const check = await promtool(["check", "metrics"], await scrape());
    expect(check.output).toBe("");
    expect(check.code).toBe(0);

    // A replica killed outright is a restart.
    const victim = (await p.status()).apps[0]?.replicas[0];
    expect(victim?.pid).toBeGreaterThan(0);
    process.kill(victim?.pid as number, "SIGKILL");
    await eventually(
      "baton_replica_restarts_total grows after the kill and the app is ready again",
      async () => parseExposition(await scrape()),
      (s) =>
        (sampleValue(s, "baton_replica_restarts_total", { app: "web" }) ?? 0) >= 1 &&
        sampleValue(s, "baton_app_ready_replicas", { app: "web" }) === 2,
      30_000,
    );

    // A real Prometheus scrapes the controller with the token file.
    prometheus = await startPrometheus([new URL(controller.api).host], {
      credentialsFile: tokenFile,
    });
    const prom = prometheus;
    const ready = await eventually(
      "Prometheus has scraped baton_app_ready_replicas",
      () => prom.query('baton_app_ready_replicas{app="web"}'),
      (r) => r.length === 1 && r[0]?.value[1] === "2",
      30_000,
    );
    expect(ready[0]?.metric.job).toBe("baton");

    const json = JSON.parse(
      (await p.ok("metrics", "baton_http_requests_total", "--app", "web", "--json")).stdout,
    ) as {
      kind: string;
      series: { labels: Record<string, string>; samples: [number, number][] }[];
    };
    expect(json.kind).toBe("counter");
    const newest = (code: string) =>
      json.series.find((s) => s.labels.code === code)?.samples.at(-1)?.[1];
    expect(newest("200")).toBe(40);
    expect(newest("500")).toBe(8);

    const table = (await p.ok("metrics", "baton_http_requests_total", "--app", "web")).stdout;
    expect(table).toMatch(/RATE\/S/);
    expect(table).toMatch(/app=web,code=500/);
    const names = (await p.ok("metrics")).stdout;
    expect(names).toMatch(/baton_replica_restarts_total\s+counter/);

    const unknown = await p.run("metrics", "baton_no_such_metric");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/metrics\.unknown.*baton_no_such_metric/);

    const top = (await p.ok("top", "--once")).stdout;
    expect(top).toMatch(/^web\s+2\/2\s/m);
    expect(top).toMatch(/^controller\s+CPU/m);
  }, 120_000);

  it("samples the environment's hosts; a host that fails is an event, not a stop", async () => {
    const port = await freePort();
    const closed = await freePort();
    project = new Project(
      `${definition(port)}hosts:
  here: { connection: local }
  gone: { address: 127.0.0.1, port: ${closed}, user: nobody }
`,
      { "app.cjs": APP },
    );
    await project.ok("up", "--detach");
    await project.ok("wait", "--timeout", "30s");
    const p = project;
    const host = await eventually(
      "baton metrics has a load average of the local host",
      async () =>
        JSON.parse(
          (await p.ok("metrics", "baton_host_load1", "--since", "1m", "--json")).stdout,
        ) as {
          series: { labels: Record<string, string> }[];
        },
      (answer) => answer.series.some((s) => s.labels.host === "here"),
      30_000,
    );
    expect(host.series.map((s) => s.labels.host)).toEqual(["here"]);
    const errors = await eventually(
      "the unreachable host is reported once as metrics.error",
      async () =>
        (
          (await p.api("/api/v1/events?limit=1000")) as {
            events: { type: string; message: string }[];
          }
        ).events.filter((e) => e.type === "metrics.error"),
      (found) => found.length >= 1,
      30_000,
    );
    expect(errors.every((e) => /host gone/.test(e.message))).toBe(true);
    expect((await p.ok("top", "--once")).stdout).toMatch(/^here\s+\d+\.\d\d\s+\d+\.\d\s+\d+\.\d$/m);
    // Sampling went on meanwhile: the app's series are current.
    expect((await p.ok("top", "--once")).stdout).toMatch(/^web\s+2\/2\s/m);
  }, 90_000);

  it("says the controller must run for metrics and top", async () => {
    project = new Project(definition(await freePort()), { "app.cjs": APP });
    for (const args of [["metrics"], ["top", "--once"]]) {
      const result = await project.run(...args);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/controller\.not_running/);
      expect(result.stderr).toMatch(/baton up/);
    }
  });
});
