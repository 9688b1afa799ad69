/**
 * The collectors against real things: process replicas started by the process runtime, a
 * real proxy process in front of a real HTTP backend, this machine as a host through the
 * LocalTransport, and this very process as the controller.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProxyClient, type RouteStatsSnapshot } from "../../src/apps/proxy/index.js";
import { LocalTransport } from "../../src/hosts/local/local-transport.js";
import {
  type CollectedSample,
  ControllerMetrics,
  collectHostMetrics,
  collectProxyMetrics,
  collectReplicaMetrics,
} from "../../src/observe/collect/index.js";
import type { Handle } from "../../src/runtime/driver.js";
import { ProcessDriver } from "../../src/runtime/process/index.js";
import { TEST_APP } from "../helpers/cli.js";
import { get } from "../helpers/http.js";
import { eventually } from "../helpers/wait.js";
import { freePort, PROXY_ENTRY, startProxy, tempDir } from "./proxy/helpers.js";

/** The value of the one sample with this name and these labels (others may be present). */
function sampleValue(
  samples: readonly CollectedSample[],
  name: string,
  labels: Record<string, string>,
): number | undefined {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match`);
  return found[0]?.value;
}

describe("replica metrics from the process runtime", () => {
  let stateDir: string;
  let runtime: ProcessDriver;
  const handles: Handle[] = [];

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), "baton-collect-"));
    runtime = new ProcessDriver({ stateDir });
    for (const id of ["web-a", "web-b"]) {
      const port = await freePort();
      handles.push(
        await runtime.start({
          id,
          app: "web",
          revision: "rev1",
          command: { argv: [process.execPath, TEST_APP] },
          cwd: stateDir,
          env: { PATH: process.env.PATH ?? "", PORT: String(port), BATON_REPLICA: id },
          port,
        }),
      );
    }
    for (const h of handles) {
      await eventually(
        `${h.id} answers`,
        () => get(h.port),
        (a) => a.status === 200,
      );
    }
  });

  afterAll(async () => {
    for (const h of await runtime.recover()) await runtime.stop(h, 2_000);
    await runtime.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("samples CPU, memory, uptime and readiness of each replica", async () => {
    const now = Date.now();
    const samples = await collectReplicaMetrics(runtime, handles, {
      isReady: (h) => h.id === "web-a",
      apps: ["web", "api"],
      now: () => now,
    });
    expect(sampleValue(samples, "baton_app_ready_replicas", { app: "web" })).toBe(1);
    expect(sampleValue(samples, "baton_app_ready_replicas", { app: "api" })).toBe(0);
    for (const h of handles) {
      const labels = { app: "web", replica: h.id };
      const rss = sampleValue(samples, "baton_replica_memory_bytes", labels) ?? 0;
      // What the kernel says the process holds, read independently.
      const vmRss =
        Number(
          /VmRSS:\s+(\d+) kB/.exec(
            readFileSync(`/proc/${runtime.describe(h).pid}/status`, "utf8"),
          )?.[1],
        ) * 1024;
      expect(rss).toBeGreaterThan(10 * 1024 * 1024);
      expect(Math.abs(rss - vmRss) / vmRss).toBeLessThan(0.25);
      expect(sampleValue(samples, "baton_replica_cpu_seconds_total", labels)).toBeGreaterThan(0);
      const uptime = sampleValue(samples, "baton_replica_uptime_seconds", labels) ?? -1;
      expect(uptime).toBeCloseTo((now - h.startedAt) / 1000, 6);
      expect(uptime).toBeGreaterThanOrEqual(0);
      expect(sampleValue(samples, "baton_replica_ready", labels)).toBe(h.id === "web-a" ? 1 : 0);
      expect(samples.every((s) => s.at === now)).toBe(true);
    }
  });

  it("sees CPU used by work grow, and leaves a stopped replica out", async () => {
    const [a, b] = handles as [Handle, Handle];
    const cpu = async (): Promise<number> =>
      sampleValue(await collectReplicaMetrics(runtime, [a]), "baton_replica_cpu_seconds_total", {
        replica: a.id,
      }) ?? 0;
    const before = await cpu();
    // Enough requests for the replica to burn measurable CPU (> one 10 ms tick).
    for (let i = 0; i < 300; i++) await get(a.port);
    expect(await cpu()).toBeGreaterThan(before);

    await runtime.stop(b, 2_000);
    const after = await collectReplicaMetrics(runtime, handles);
    expect(new Set(after.map((s) => s.labels.replica))).toEqual(new Set([a.id]));
  });
});

/** A backend whose answers the test chooses by path. */
async function startShop(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    req.resume();
    req.on("end", () => {
      if (url.pathname === "/fail") {
        res.writeHead(500).end("failed on purpose\n");
      } else if (url.pathname === "/reset") {
        req.socket.destroy();
      } else if (url.pathname === "/slow") {
        setTimeout(() => res.end("slow\n"), Number(url.searchParams.get("ms") ?? "100"));
      } else {
        res.end("ok\n");
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as AddressInfo).port };
}

/** One request on a fresh connection; resolves with the status, or "error" if cut. */
function send(port: number, path: string, method = "GET"): Promise<number | "error"> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, method, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", () => resolve("error"));
    });
    req.on("error", () => resolve("error"));
    req.end();
  });
}

describe("proxy metrics from a real proxy process", () => {
  const dir = tempDir();
  let proxy: ProxyClient;
  let shop: { server: Server; port: number };
  let httpPort: number;
  let tcpPort: number;

  beforeAll(async () => {
    shop = await startShop();
    proxy = await startProxy(dir.path);
    httpPort = await freePort();
    tcpPort = await freePort();
    const backends = [{ id: "shop-1", host: "127.0.0.1", port: shop.port }];
    await proxy.setRoute("shop", { port: httpPort, protocol: "http", backends });
    await proxy.setRoute("shop-tcp", { port: tcpPort, protocol: "tcp", backends });
  });

  afterAll(async () => {
    await proxy?.stop(15_000);
    shop?.server.closeAllConnections();
    await new Promise((r) => shop?.server.close(r));
    dir.remove();
  });

  async function route(app: string): Promise<RouteStatsSnapshot> {
    const stats = await proxy.stats();
    const found = stats.routes.find((r) => r.app === app);
    if (found === undefined) throw new Error(`no stats for ${app}: ${JSON.stringify(stats)}`);
    return found;
  }

  it("counts requests by code and times them in a cumulative histogram", async () => {
    const statuses: Array<number | "error"> = [];
    for (let i = 0; i < 14; i++) statuses.push(await send(httpPort, "/"));
    for (let i = 0; i < 4; i++) statuses.push(await send(httpPort, "/fail"));
    for (let i = 0; i < 2; i++) statuses.push(await send(httpPort, "/slow?ms=150"));
    // A backend that hangs up on a POST: not replayed, so the proxy answers 502 itself.
    statuses.push(await send(httpPort, "/reset", "POST"));
    expect(statuses.filter((s) => s === 200)).toHaveLength(16);
    expect(statuses.filter((s) => s === 500)).toHaveLength(4);
    expect(statuses.at(-1)).toBe(502);

    const samples = await collectProxyMetrics(proxy);
    const app = { app: "shop" };
    expect(sampleValue(samples, "baton_http_requests_total", { ...app, code: "200" })).toBe(16);
    expect(sampleValue(samples, "baton_http_requests_total", { ...app, code: "500" })).toBe(4);
    expect(sampleValue(samples, "baton_http_requests_total", { ...app, code: "502" })).toBe(1);
    expect(sampleValue(samples, "baton_http_request_duration_seconds_count", app)).toBe(21);
    expect(
      sampleValue(samples, "baton_http_request_duration_seconds_bucket", { ...app, le: "+Inf" }),
    ).toBe(21);
    // The two slow requests took 150 ms or more: above the 0.1 s bucket, inside 10 s.
    expect(
      sampleValue(samples, "baton_http_request_duration_seconds_bucket", { ...app, le: "0.1" }),
    ).toBeLessThanOrEqual(19);
    expect(
      sampleValue(samples, "baton_http_request_duration_seconds_bucket", { ...app, le: "10" }),
    ).toBe(21);
    expect(sampleValue(samples, "baton_http_request_duration_seconds_sum", app)).toBeGreaterThan(
      0.3,
    );
    const buckets = samples
      .filter((s) => s.name === "baton_http_request_duration_seconds_bucket")
      .map((s) => s.value);
    expect(buckets).toHaveLength(12);
    expect([...buckets].sort((x, y) => x - y)).toEqual(buckets);
    const received = sampleValue(samples, "baton_proxy_bytes_total", {
      ...app,
      direction: "received",
    });
    const sent = sampleValue(samples, "baton_proxy_bytes_total", { ...app, direction: "sent" });
    expect(received).toBeGreaterThan(21 * 30);
    expect(sent).toBeGreaterThan(21 * 30);
    const started = sampleValue(samples, "baton_proxy_start_time_seconds", {}) ?? 0;
    expect(started * 1000).toBeLessThanOrEqual(Date.now());
    expect(started * 1000).toBeGreaterThan(Date.now() - 120_000);
  });

  it("counts a request whose client gave up as 499", async () => {
    const before = (await route("shop")).requests?.["499"] ?? 0;
    const socket = connect(httpPort, "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    socket.write("GET /slow?ms=5000 HTTP/1.1\r\nHost: x\r\n\r\n");
    await eventually(
      "the request reached the backend",
      () => proxy.routes(),
      (r) => r.routes.find((x) => x.app === "shop")?.backends[0]?.inflight === 1,
    );
    // A reset, not a FIN: a FIN is a half-close, after which the answer is still delivered.
    socket.resetAndDestroy();
    await eventually(
      "the abandoned request is counted",
      () => route("shop"),
      (r) => (r.requests?.["499"] ?? 0) === before + 1,
    );
  });

  it("tracks open connections of HTTP and TCP routes", async () => {
    const open: Socket[] = [];
    for (const port of [httpPort, httpPort, tcpPort]) {
      const s = connect(port, "127.0.0.1");
      await new Promise((r) => s.once("connect", r));
      open.push(s);
    }
    let samples = await eventually(
      "three connections are seen",
      () => collectProxyMetrics(proxy),
      (s) =>
        sampleValue(s, "baton_http_open_connections", { app: "shop" }) === 2 &&
        sampleValue(s, "baton_tcp_open_connections", { app: "shop-tcp" }) === 1,
    );
    const tcpTotal = sampleValue(samples, "baton_tcp_connections_total", { app: "shop-tcp" }) ?? 0;
    expect(tcpTotal).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, "baton_http_connections_total", { app: "shop" })).toBeGreaterThan(
      20,
    );
    for (const s of open) s.destroy();
    samples = await eventually(
      "the connections are seen closed",
      () => collectProxyMetrics(proxy),
      (s) =>
        sampleValue(s, "baton_http_open_connections", { app: "shop" }) === 0 &&
        sampleValue(s, "baton_tcp_open_connections", { app: "shop-tcp" }) === 0,
    );
    expect(sampleValue(samples, "baton_tcp_connections_total", { app: "shop-tcp" })).toBe(tcpTotal);
  });

  it("counts nothing when started with metrics off, and still serves", async () => {
    const offDir = tempDir();
    const off = await ProxyClient.ensure(offDir.path, { entry: PROXY_ENTRY, metrics: false });
    try {
      const port = await freePort();
      await off.setRoute("shop", {
        port,
        protocol: "http",
        backends: [{ id: "shop-1", host: "127.0.0.1", port: shop.port }],
      });
      expect(await send(port, "/")).toBe(200);
      const stats = await off.stats();
      expect(stats.metrics).toBe(false);
      expect(stats.routes).toEqual([]);
      expect((await collectProxyMetrics(off)).map((s) => s.name)).toEqual([
        "baton_proxy_start_time_seconds",
      ]);
    } finally {
      await off.stop(15_000);
      offDir.remove();
    }
  });
});

describe("host metrics of this machine through the LocalTransport", () => {
  it("make sense: memory, a root filesystem, CPU time and load", async () => {
    const transport = new LocalTransport("here");
    const first = await collectHostMetrics(transport);
    const total = sampleValue(first, "baton_host_memory_bytes", { kind: "total" }) ?? 0;
    expect(total).toBe(totalmem());
    const available = sampleValue(first, "baton_host_memory_bytes", { kind: "available" }) ?? -1;
    expect(available).toBeGreaterThan(0);
    expect(available).toBeLessThanOrEqual(total);
    const rootSize = sampleValue(first, "baton_host_filesystem_bytes", {
      mount: "/",
      kind: "size",
    });
    const rootUsed = sampleValue(first, "baton_host_filesystem_bytes", {
      mount: "/",
      kind: "used",
    });
    expect(rootSize).toBeGreaterThan(0);
    expect(rootUsed).toBeGreaterThan(0);
    expect(rootUsed).toBeLessThan(rootSize ?? 0);
    expect(sampleValue(first, "baton_host_load1", {})).toBeGreaterThanOrEqual(0);
    expect(first.every((s) => s.labels.host === "here")).toBe(true);

    const second = await collectHostMetrics(transport);
    for (const mode of ["user", "system", "idle"]) {
      const a = sampleValue(first, "baton_host_cpu_seconds_total", { mode }) ?? 0;
      const b = sampleValue(second, "baton_host_cpu_seconds_total", { mode }) ?? 0;
      expect(a).toBeGreaterThan(0);
      expect(b).toBeGreaterThanOrEqual(a);
    }
    await transport.close();
  });
});

describe("controller metrics of this process", () => {
  it("report CPU, memory and the event-loop lag a blocked loop causes", async () => {
    const metrics = new ControllerMetrics({ resolutionMs: 10 });
    try {
      // The probe must have run once (its clock started) before the loop is blocked 200 ms.
      await eventually(
        "the loop is probed",
        () => metrics.loopProbes,
        (n) => n > 0,
      );
      const until = Date.now() + 200;
      while (Date.now() < until) {
        // Busy: this is the lag being measured.
      }
      // The overdue probe fires in the timers phase before this later timer does.
      await new Promise((r) => setTimeout(r, 1));
      const samples = metrics.collect();
      const max = sampleValue(samples, "baton_controller_event_loop_lag_seconds", { stat: "max" });
      expect(max).toBeGreaterThan(0.15);
      expect(max).toBeLessThan(5);
      expect(
        sampleValue(samples, "baton_controller_cpu_seconds_total", { mode: "user" }),
      ).toBeGreaterThan(0.1);
      expect(sampleValue(samples, "baton_controller_resident_memory_bytes", {})).toBeGreaterThan(
        20 * 1024 * 1024,
      );
      const heapUsed = sampleValue(samples, "baton_controller_heap_bytes", { kind: "used" }) ?? 0;
      const heapTotal = sampleValue(samples, "baton_controller_heap_bytes", { kind: "total" }) ?? 0;
      expect(heapUsed).toBeGreaterThan(0);
      expect(heapUsed).toBeLessThanOrEqual(heapTotal);
      const started = sampleValue(samples, "baton_controller_start_time_seconds", {}) ?? 0;
      expect(Math.abs(started * 1000 - (Date.now() - process.uptime() * 1000))).toBeLessThan(1_000);
    } finally {
      metrics.close();
    }
  });
});
