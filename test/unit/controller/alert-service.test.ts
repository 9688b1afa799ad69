import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { AppStatus } from "../../../src/apps/status.js";
import { AlertService, type AlertServiceOptions } from "../../../src/controller/alert-service.js";
import { EventBus } from "../../../src/controller/event-bus.js";
import { parseDefinition } from "../../../src/definition/index.js";
import { MetricsStore } from "../../../src/observe/metrics/index.js";
import type { SeriesSource } from "../../../src/observe/series.js";
import { type EventRecord, SqliteStore } from "../../../src/store/index.js";
import { MemorySeriesSource } from "../../helpers/memory-series-source.js";
import { eventually } from "../../helpers/wait.js";

interface Receiver {
  readonly url: string;
  /** The POSTs it accepted (answered 200). */
  readonly posts: { status: string; alerts: { labels: Record<string, string> }[] }[];
  /** Every POST, accepted or not. */
  attempts: number;
  readonly server: Server;
}

/** A real webhook receiver on loopback answering `status` (now) to every POST. */
async function receiver(status: number | (() => number) = 200): Promise<Receiver> {
  const answer = typeof status === "number" ? () => status : status;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const code = answer();
      hook.attempts += 1;
      if (code === 200) hook.posts.push(JSON.parse(Buffer.concat(chunks).toString()));
      res.writeHead(code).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const hook: Receiver = {
    url: `http://127.0.0.1:${port}/hook/s3cret`,
    posts: [],
    attempts: 0,
    server,
  };
  return hook;
}

const T0 = Date.UTC(2026, 0, 1);
let now = T0;
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  now = T0;
});

function world(apps: AppStatus[] = [], source?: (dir: string) => SeriesSource) {
  const dir = mkdtempSync(join(tmpdir(), "baton-alert-service-"));
  const store = SqliteStore.open(dir, { create: true });
  const bus = new EventBus((event) => store.appendEvent(event));
  const events: EventRecord[] = [];
  bus.subscribe((e) => events.push(e));
  const memory = new MemorySeriesSource();
  const metrics = source?.(dir) ?? memory;
  const start = (
    delivery: AlertServiceOptions["delivery"] = {
      maxAttempts: 2,
      backoff: { baseMs: 5, maxMs: 10 },
    },
  ) => {
    const service = new AlertService({
      store: store.alerts,
      metrics,
      emit: (e) => bus.emit(e),
      subscribe: (l) => bus.subscribe(l),
      apps: () => apps,
      now: () => now,
      tickMs: 3_600_000,
      delivery,
    });
    cleanups.push(() => service.stop());
    return service;
  };
  cleanups.push(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, bus, events, metrics: memory, start, apps };
}

function definition(hook: string, alerting = "", apps = "{}"): ReturnType<typeof parseDefinition> {
  return parseDefinition(
    `apps: ${apps}
alerts:
  - { name: high-load, expr: 'load > 1', for: 1m, severity: page }
notifiers:
  ops: { webhook: "${hook}" }
alerting: { notify: [ops], groupWait: 10s, groupInterval: 1m, repeatInterval: 1h, evaluationInterval: 1h${alerting} }
`,
    "/nonexistent/baton.yaml",
  );
}

const notified = (w: ReturnType<typeof world>) =>
  w.store.alerts.recent(1000).filter((r) => r.kind === "notified").length;

const postsOf = (hook: Receiver, rule: string) =>
  hook.posts.filter((p) => p.alerts.some((a) => a.labels.alertname === rule));

describe("AlertService", () => {
  it("fires an expression rule after its `for`, notifies a webhook, records it, and resolves", async () => {
    const hook = await receiver();
    cleanups.push(() => void hook.server.close());
    const w = world();
    w.metrics.add("load", { host: "a" }, [[T0, 2]]);
    const service = w.start();
    service.update(definition(hook.url));
    expect(service.view().active.map((a) => [a.rule, a.state])).toEqual([["high-load", "pending"]]);

    now = T0 + 60_000;
    w.metrics.add("load", { host: "a" }, [[now, 3]]);
    service.evaluate();
    now += 10_000;
    service.tick();
    const posts = await eventually(
      "the webhook got the firing batch",
      () => hook.posts,
      (p) => p.length === 1,
    );
    expect(posts[0]?.alerts[0]?.labels).toMatchObject({
      alertname: "high-load",
      host: "a",
      severity: "page",
    });
    expect(w.events.map((e) => e.type)).toContain("alert.firing");
    // Recorded as told once the receiver answered, not when it was queued.
    await eventually(
      "the delivery is recorded",
      () => notified(w),
      (n) => n === 1,
    );

    now += 10_000;
    w.metrics.add("load", { host: "a" }, [[now, 0.5]]);
    service.evaluate();
    now += 60_000;
    service.tick();
    await eventually(
      "the resolved batch",
      () => hook.posts,
      (p) => p.at(-1)?.status === "resolved",
    );
    expect(w.events.map((e) => e.type)).toContain("alert.resolved");
    await eventually(
      "the resolution's delivery is recorded",
      () => notified(w),
      (n) => n === 2,
    );
    expect(
      w.store.alerts.recent(100).map((r) => (r.kind === "transition" ? r.to : r.status)),
    ).toEqual(["resolved", "resolved", "firing", "firing", "pending"]);
  });

  it("restores a firing alert after a restart and does not notify it again", async () => {
    const hook = await receiver();
    cleanups.push(() => void hook.server.close());
    const w = world();
    const first = w.start();
    first.update(definition(hook.url));
    w.bus.emit({ type: "rollout.failed", app: "api", message: "api failed" });
    now += 10_000;
    first.tick();
    await eventually(
      "the first notification",
      () => hook.posts,
      (p) => p.length === 1,
    );
    await eventually(
      "the delivery is recorded",
      () => notified(w),
      (n) => n === 1,
    );
    first.stop();

    const before = notified(w);
    const second = w.start();
    second.update(definition(hook.url));
    expect(second.view().active.map((a) => [a.rule, a.state])).toEqual([
      ["rollout-failed", "firing"],
    ]);
    w.bus.emit({ type: "rollout.failed", app: "api", message: "api failed again" });
    now += 60_000;
    second.tick();
    expect(notified(w)).toBe(before);
  });

  it("feeds built-in rules from events, and leaves out the disabled ones", async () => {
    const w = world();
    const service = w.start();
    service.update(definition("http://127.0.0.1:9/hook", ", disable: [drift]"));
    w.bus.emit({ type: "rollout.rolled_back", app: "api", message: "rolled back" });
    w.bus.emit({ type: "run.failed", message: "x", data: { pipeline: "ci" } });
    w.bus.emit({
      type: "host.drift",
      message: "x",
      data: { host: "db1", module: "file", id: "/etc/x" },
    });
    expect(service.view().active.map((a) => [a.rule, a.labels.app ?? a.labels.pipeline])).toEqual([
      ["rollout-failed", "api"],
      ["pipeline-failed", "ci"],
    ]);
    w.bus.emit({ type: "rollout.rolled_out", app: "api", message: "rolled out" });
    w.bus.emit({ type: "run.passed", message: "x", data: { pipeline: "ci" } });
    expect(service.view().active).toEqual([]);
  });

  it("clears a crash loop only once the app stayed fine for its resetAfter", () => {
    const apps: AppStatus[] = [];
    const w = world(apps);
    const service = w.start();
    const status = (state: string, ready: number): AppStatus => ({
      name: "api",
      revision: "r1",
      desired: 1,
      ready,
      port: null,
      protocol: "http",
      state,
      replicas: [],
    });
    apps.push(status("crash-loop", 0));
    service.update(
      definition(
        "http://127.0.0.1:9/hook",
        ", disable: [replica-not-ready]",
        "{ api: { command: [node, x.js], restart: { resetAfter: 30s } } }",
      ),
    );
    expect(service.view().active.map((a) => [a.rule, a.state])).toEqual([["crash-loop", "firing"]]);
    apps[0] = status("converged", 1);
    service.evaluate();
    now += 10_000;
    service.evaluate();
    expect(service.view().active).toHaveLength(1);
    now += 30_000; // its resetAfter
    service.evaluate();
    expect(service.view().active).toEqual([]);
    // An app the definition drops ends its alerts; one the status does not show yet does not.
    apps[0] = status("crash-loop", 0);
    service.evaluate();
    apps.length = 0;
    service.evaluate();
    expect(service.view().active.map((a) => a.rule)).toEqual(["crash-loop"]);
    service.update(definition("http://127.0.0.1:9/hook", ", disable: [replica-not-ready]"));
    expect(service.view().active).toEqual([]);
  });

  it("reports a failing notifier as an event and a notifier-failing alert, without its URL", async () => {
    const hook = await receiver(500);
    cleanups.push(() => void hook.server.close());
    const w = world();
    const service = w.start();
    service.update(definition(hook.url));
    w.bus.emit({ type: "rollout.failed", app: "api", message: "api failed" });
    now += 10_000;
    service.tick();
    const failed = await eventually(
      "the notifier's failure is an event",
      () => w.events.filter((e) => e.type === "notifier.failed"),
      (e) => e.length >= 1,
    );
    expect(failed[0]?.message).toContain("ops");
    expect(JSON.stringify(w.events)).not.toContain("s3cret");
    expect(
      service.view().active.map((a) => [a.rule, a.labels.receiver ?? a.labels.app]),
    ).toContainEqual(["notifier-failing", "ops"]);
  });

  it("gives back a batch the receiver never got: told at the group interval once it answers, notifier.retrying said once", async () => {
    let answer = 500;
    const hook = await receiver(() => answer);
    cleanups.push(() => void hook.server.close());
    const w = world();
    const service = w.start();
    service.update(definition(hook.url));
    w.bus.emit({ type: "rollout.failed", app: "api", message: "api failed" });
    now += 10_000;
    service.tick();
    await eventually(
      "the batch is given up after its 2 attempts",
      () => w.events.filter((e) => e.type === "notifier.failed"),
      (e) => e.length === 1,
    );
    expect(hook.attempts).toBe(2);
    const retrying = w.events.filter((e) => e.type === "notifier.retrying");
    expect(retrying.map((e) => e.message)).toEqual([
      expect.stringMatching(
        /^notifier ops failed \(attempt 1 of 2\), retrying in \d+ms: notifier "ops" \(webhook http:\/\/127\.0\.0\.1:\d+\/\*\*\*\): answered HTTP 500$/,
      ),
    ]);
    expect(JSON.stringify(w.events)).not.toContain("s3cret");
    expect(notified(w)).toBe(0);

    // The receiver is back; the group interval (1m, not the repeat interval of 1h) brings the
    // alert that was never told.
    answer = 200;
    now += 60_000;
    service.tick();
    await eventually(
      "rollout-failed reaches the receiver",
      () => postsOf(hook, "rollout-failed"),
      (p) => p.length === 1,
    );
    await eventually(
      "its delivery is recorded",
      () =>
        w.store.alerts
          .recent(100)
          .filter((r) => r.kind === "notified" && r.rule === "rollout-failed"),
      (r) => r.length === 1,
    );
    // The delivery ended the streak and cleared notifier-failing; only one early word was said.
    expect(service.view().active.map((a) => a.rule)).toEqual(["rollout-failed"]);
    expect(w.events.filter((e) => e.type === "notifier.retrying")).toHaveLength(1);
  });

  it("sends again after a restart a batch that was still queued when the controller stopped", async () => {
    let answer = 500;
    const hook = await receiver(() => answer);
    cleanups.push(() => void hook.server.close());
    const w = world();
    // Retries an hour apart: the batch is surely still queued when the controller stops.
    const first = w.start({ maxAttempts: 8, backoff: { baseMs: 3_600_000, maxMs: 3_600_000 } });
    first.update(definition(hook.url));
    w.bus.emit({ type: "rollout.failed", app: "api", message: "api failed" });
    now += 10_000;
    first.tick();
    await eventually(
      "the first attempt failed and a retry waits",
      () => w.events.filter((e) => e.type === "notifier.retrying"),
      (e) => e.length === 1,
    );
    first.stop();
    expect(notified(w)).toBe(0);

    answer = 200;
    const second = w.start();
    second.update(definition(hook.url));
    now += 1_000;
    second.tick();
    const posts = await eventually(
      "the restarted controller sends it",
      () => postsOf(hook, "rollout-failed"),
      (p) => p.length === 1,
    );
    expect(posts[0]?.alerts[0]?.labels).toMatchObject({ alertname: "rollout-failed", app: "api" });
    await eventually(
      "its delivery is recorded",
      () => notified(w),
      (n) => n === 1,
    );
  });

  it("mutes a silenced alert and keeps the silence across a restart", async () => {
    const hook = await receiver();
    cleanups.push(() => void hook.server.close());
    const w = world();
    const first = w.start();
    first.update(definition(hook.url));
    const silence = first.addSilence({
      matchers: [{ label: "app", op: "=", value: "api" }],
      forMs: 3_600_000,
      comment: "deploying",
      createdBy: "test",
    });
    first.stop();
    const second = w.start();
    second.update(definition(hook.url));
    w.bus.emit({ type: "rollout.failed", app: "api", message: "api failed" });
    now += 10_000;
    second.tick();
    expect(second.view().active[0]?.silencedBy).toBe(silence.id);
    expect(notified(w)).toBe(0);
    second.removeSilence(silence.id, "test");
    second.tick();
    await eventually(
      "the delivery is recorded",
      () => notified(w),
      (n) => n === 1,
    );
    expect(() => second.removeSilence(silence.id, "test")).toThrow(/no silence/);
  });

  it("reads the controller's metrics store: disk-full from the host filesystem series, and an expression", () => {
    let metrics: MetricsStore | undefined;
    const w = world([], (dir) => {
      metrics = MetricsStore.open(dir);
      return metrics;
    });
    cleanups.push(() => metrics?.close());
    const store = metrics as unknown as MetricsStore;
    const sample = (at: number, used: number) =>
      store.append([
        {
          name: "baton_host_filesystem_bytes",
          labels: { host: "db1", mount: "/", kind: "used" },
          at,
          value: used,
        },
        {
          name: "baton_host_filesystem_bytes",
          labels: { host: "db1", mount: "/", kind: "size" },
          at,
          value: 100,
        },
        {
          name: "baton_host_filesystem_bytes",
          labels: { host: "db1", mount: "/boot", kind: "used" },
          at,
          value: 5,
        },
        {
          name: "baton_host_filesystem_bytes",
          labels: { host: "db1", mount: "/boot", kind: "size" },
          at,
          value: 100,
        },
        { name: "load", labels: { host: "db1" }, at, value: used / 10 },
      ]);
    sample(T0, 95);
    const service = w.start();
    service.update(definition("http://127.0.0.1:9/hook"));
    now = T0 + 5 * 60_000;
    sample(now, 96);
    service.evaluate();
    const active = service
      .view()
      .active.map((a) => [a.rule, a.state, a.labels.mount ?? a.labels.host]);
    expect(active).toEqual([
      ["high-load", "firing", "db1"],
      ["disk-full", "firing", "/"],
    ]);
  });
});
