import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, Project } from "../helpers/cli.js";
import { get } from "../helpers/http.js";
import { type SmtpSink, startSmtpSink } from "../helpers/smtp-sink.js";
import { eventually, processAlive } from "../helpers/wait.js";

/** A real webhook receiver on loopback: every POST body, parsed. */
interface Receiver {
  readonly port: number;
  /** The POSTs it accepted. */
  readonly posts: WebhookPost[];
  /** What it answers now; anything but 200 refuses the POST. */
  status: number;
  /** The POSTs it refused. */
  readonly refused: WebhookPost[];
  close(): Promise<void>;
}

interface WebhookPost {
  status: "firing" | "resolved";
  alerts: { status: string; labels: Record<string, string> }[];
}

async function startReceiver(status = 200): Promise<Receiver> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const answer = receiver.status;
      if (req.method === "POST" && req.url === "/hook") {
        const post = JSON.parse(Buffer.concat(chunks).toString()) as WebhookPost;
        (answer === 200 ? receiver.posts : receiver.refused).push(post);
      }
      res.writeHead(answer).end(answer === 200 ? "ok" : "unavailable");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const receiver: Receiver = {
    port: (server.address() as AddressInfo).port,
    posts: [],
    status,
    refused: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return receiver;
}

const CRASHING = `["node", "-e", "process.exit(3)"]`;
const WORKING = `["node", "-e", "setInterval(() => {}, 1000)"]`;

/** One app, a notifier and alert timings short enough for a test. */
function definition(command: string, notifier: string, groupWait = "200ms"): string {
  return `apps:
  crasher:
    command: ${command}
    restart: { backoff: 100ms, maxBackoff: 400ms, resetAfter: 1s }
notifiers:
  ops: ${notifier}
alerting:
  notify: [ops]
  groupWait: ${groupWait}
  groupInterval: 500ms
  repeatInterval: 1h
  evaluationInterval: 200ms
  disable: [replica-not-ready]
`;
}

interface AlertsJson {
  active: { rule: string; state: string; labels: Record<string, string>; silencedBy?: string }[];
  silences: { id: string }[];
  history: { kind: string; rule: string; to?: string; status?: string }[];
}

async function alerts(project: Project): Promise<AlertsJson> {
  return JSON.parse((await project.ok("alerts", "--history", "--json")).stdout) as AlertsJson;
}

const crashLoopPosts = (posts: readonly WebhookPost[], status: string) =>
  posts.filter(
    (p) => p.status === status && p.alerts.some((a) => a.labels.alertname === "crash-loop"),
  );

let project: Project | undefined;
let receiver: Receiver | undefined;
let sink: SmtpSink | undefined;
afterEach(async () => {
  await project?.cleanup();
  await receiver?.close();
  await sink?.stop();
  project = undefined;
  receiver = undefined;
  sink = undefined;
});

/** Answers 500 on /fail, 200 elsewhere: traffic through the proxy makes its error ratio. */
const ERRING_APP = `const http = require("node:http");
http.createServer((req, res) => {
  if (req.url === "/healthz") return res.end("ok\\n");
  if (req.url.startsWith("/fail")) { res.writeHead(500); return res.end("failed\\n"); }
  res.end("hello\\n");
}).listen(Number(process.env.PORT), "127.0.0.1");
`;

const postsOf = (posts: readonly WebhookPost[], rule: string, status: string) =>
  posts.filter((p) => p.status === status && p.alerts.some((a) => a.labels.alertname === rule));

describe("alerts end to end", () => {
  it("the issue's rule: http_error_ratio above 5 % fires on 5xx answers and resolves when they thin out", async () => {
    receiver = await startReceiver();
    const port = await freePort();
    project = new Project(
      `apps:
  api:
    command: ["node", "app.cjs"]
    port: ${port}
    health: { readiness: { http: /healthz, interval: 200ms } }
alerts:
  - name: api-errors
    expr: http_error_ratio{app="api"} > 0.05
    for: 0s
    severity: page
    notify: [ops]
notifiers:
  ops: { webhook: "http://127.0.0.1:${receiver.port}/hook" }
alerting:
  groupWait: 200ms
  groupInterval: 500ms
  evaluationInterval: 200ms
metrics: { interval: 200ms }
`,
      { "app.cjs": ERRING_APP },
    );
    await project.ok("up", "--detach");
    await project.ok("wait", "--timeout", "30s");
    // 5 of 20 answers fail: 25 %.
    for (let i = 0; i < 15; i++) expect((await get(port, "/")).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await get(port, "/fail")).status).toBe(500);
    const fired = await eventually(
      "api-errors reaches the webhook",
      () => postsOf(receiver!.posts, "api-errors", "firing"),
      (p) => p.length >= 1,
      30_000,
    );
    expect(fired[0]?.alerts[0]?.labels).toMatchObject({
      alertname: "api-errors",
      app: "api",
      severity: "page",
    });
    // 200 more good answers: 5 of 220 is under 5 % — the alert resolves.
    for (let i = 0; i < 200; i++) expect((await get(port, "/")).status).toBe(200);
    await eventually(
      "api-errors resolves",
      () => postsOf(receiver!.posts, "api-errors", "resolved"),
      (p) => p.length >= 1,
      30_000,
    );
  });

  it("a crash loop reaches a webhook, is not told again after a controller restart, and resolves once fixed", async () => {
    receiver = await startReceiver();
    const hook = `{ webhook: "http://127.0.0.1:${receiver.port}/hook" }`;
    project = new Project(definition(CRASHING, hook));
    await project.ok("up", "--detach");

    const fired = await eventually(
      "the crash-loop alert reaches the webhook",
      () => crashLoopPosts(receiver!.posts, "firing"),
      (p) => p.length >= 1,
      30_000,
    );
    expect(fired[0]?.alerts[0]?.labels).toMatchObject({ alertname: "crash-loop", app: "crasher" });
    const seen = await alerts(project);
    expect(seen.active.map((a) => [a.rule, a.state])).toContainEqual(["crash-loop", "firing"]);
    // The notifier's URL is a secret: not in the API's answer.
    expect(JSON.stringify(seen)).not.toContain(String(receiver.port));

    // A controller restart rebuilds the alert from the history without telling anyone again
    // (once the delivery is recorded: a batch still queued at a restart is sent again).
    await eventually(
      "the delivery is recorded",
      async () => (await alerts(project!)).history,
      (h) => h.some((r) => r.kind === "notified" && r.rule === "crash-loop"),
      30_000,
    );
    const before = await project.status();
    process.kill(before.controller.pid, "SIGTERM");
    await eventually(
      "the controller stopped",
      () => processAlive(before.controller.pid),
      (a) => !a,
    );
    await project.ok("up", "--detach");
    const restartedAt = Date.now();
    await eventually(
      "the restarted controller holds the crash-loop alert as firing, and ticked well past groupWait",
      async () => ({ alerts: await alerts(project!), elapsed: Date.now() - restartedAt }),
      (s) =>
        s.elapsed > 2_500 &&
        s.alerts.active.some((a) => a.rule === "crash-loop" && a.state === "firing"),
      30_000,
    );
    const afterRestart = await alerts(project);
    expect(
      crashLoopPosts(receiver.posts, "firing"),
      JSON.stringify({ posts: receiver.posts, history: afterRestart.history }, null, 1),
    ).toHaveLength(1);

    project.write("baton.yaml", definition(WORKING, hook));
    await project.ok("apply");
    const resolved = await eventually(
      "a resolved notification arrives once the app is fixed",
      () => crashLoopPosts(receiver!.posts, "resolved"),
      (p) => p.length >= 1,
      30_000,
    );
    expect(resolved[0]?.alerts[0]?.status).toBe("resolved");
    const history = (await alerts(project)).history;
    expect(history.some((r) => r.kind === "transition" && r.to === "resolved")).toBe(true);
    const events = JSON.stringify(await project.api("/api/v1/events?limit=1000"));
    expect(events).toContain("alert.firing");
    expect(events).toContain("alert.resolved");
    expect(events).not.toContain(`${receiver.port}/hook`);
  });

  it("a silence keeps a firing alert from being notified until it is removed", async () => {
    receiver = await startReceiver();
    const hook = `{ webhook: "http://127.0.0.1:${receiver.port}/hook" }`;
    project = new Project(definition(WORKING, hook, "500ms"));
    await project.ok("up", "--detach");
    const added = JSON.parse(
      (await project.ok("silence", "add", "crash-loop", "app=crasher", "--for", "1h", "--json"))
        .stdout,
    ) as { silence: { id: string } };
    expect((await project.ok("silence", "ls")).stdout).toContain(added.silence.id);

    project.write("baton.yaml", definition(CRASHING, hook, "500ms"));
    await project.ok("apply");
    const firingAt = Date.now();
    await eventually(
      "the alert fires, muted by the silence, and ticks pass well beyond groupWait",
      async () => ({ alerts: await alerts(project!), elapsed: Date.now() - firingAt }),
      (s) =>
        s.elapsed > 3_000 &&
        s.alerts.active.some((a) => a.rule === "crash-loop" && a.silencedBy === added.silence.id),
      30_000,
    );
    expect(crashLoopPosts(receiver.posts, "firing")).toHaveLength(0);

    await project.ok("silence", "rm", added.silence.id);
    await eventually(
      "the notification goes out once the silence is gone",
      () => crashLoopPosts(receiver!.posts, "firing"),
      (p) => p.length >= 1,
      30_000,
    );
  });

  it("a batch the webhook refused until it gave up is told once it answers, at the group interval; notifier.retrying says so at the first failure", async () => {
    // Two tries 50 ms apart: the controller gives a batch up at once rather than in a minute.
    const retry = { BATON_NOTIFY_ATTEMPTS: "2", BATON_NOTIFY_BACKOFF: "50ms" };
    const saved = Object.fromEntries(Object.keys(retry).map((k) => [k, process.env[k]]));
    Object.assign(process.env, retry);
    try {
      receiver = await startReceiver(500);
      const hook = `{ webhook: "http://127.0.0.1:${receiver.port}/hook" }`;
      project = new Project(definition(CRASHING, hook));
      await project.ok("up", "--detach");
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    const eventsOf = async (type: string) =>
      (
        (await project!.api("/api/v1/events?limit=1000")) as {
          events: { type: string; message: string }[];
        }
      ).events.filter((e) => e.type === type);
    const retrying = await eventually(
      "the first failed attempt is reported as notifier.retrying",
      () => eventsOf("notifier.retrying"),
      (e) => e.length >= 1,
      30_000,
    );
    expect(retrying[0]?.message).toMatch(
      /^notifier ops failed \(attempt 1 of 2\), retrying in \d+ms: notifier "ops" \(webhook http:\/\/127\.0\.0\.1:\d+\/\*\*\*\): answered HTTP 500$/,
    );
    // Given up (the built-in notifier-failing fires), and given back: it is tried again at the
    // group interval, and refused again, with no new early word (the streak goes on).
    await eventually(
      "the batch is given up and tried again",
      async () => ({
        failed: await eventsOf("notifier.failed"),
        refused: crashLoopPosts(receiver!.refused, "firing").length,
      }),
      // Its 2 tries, then at least one more after it was given back.
      (s) => s.failed.length >= 1 && s.refused >= 3,
      30_000,
    );
    expect(crashLoopPosts(receiver.posts, "firing")).toHaveLength(0);
    expect(
      (await alerts(project)).history.filter(
        (r) => r.kind === "notified" && r.rule === "crash-loop",
      ),
    ).toEqual([]);

    receiver.status = 200;
    const askedAt = Date.now();
    await eventually(
      "the crash-loop alert reaches the webhook once it answers",
      () => crashLoopPosts(receiver!.posts, "firing"),
      (p) => p.length >= 1,
      30_000,
    );
    // The group interval is 500 ms and the repeat interval an hour.
    expect(Date.now() - askedAt).toBeLessThan(20_000);
    await eventually(
      "the delivery is recorded in the history",
      async () => (await alerts(project!)).history,
      (h) => h.some((r) => r.kind === "notified" && r.rule === "crash-loop"),
      30_000,
    );
    expect(await eventsOf("notifier.retrying")).toHaveLength(1);
    const events = JSON.stringify(await project.api("/api/v1/events?limit=1000"));
    expect(events).not.toContain(`${receiver.port}/hook`);
  });

  it("an email notifier reaches a real SMTP server", async () => {
    sink = await startSmtpSink();
    const mail = `{ email: { smtp: "127.0.0.1:${sink.port}", from: baton@example.invalid, to: ops@example.invalid } }`;
    project = new Project(definition(CRASHING, mail));
    await project.ok("up", "--detach");
    const messages = await eventually(
      "a mail about the crash loop arrives",
      () => sink!.messages(),
      (m) => m.some((text) => text.includes("crash-loop")),
      30_000,
    );
    expect(messages.join("\n")).toContain("ops@example.invalid");
  });
});
