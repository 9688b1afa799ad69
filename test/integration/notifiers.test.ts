import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlertEngine } from "../../src/observe/alerts/alert-engine.js";
import { BUILT_IN_RULES } from "../../src/observe/alerts/built-in-rules.js";
import type { Notification } from "../../src/observe/alerts/types.js";
import { CommandNotifier } from "../../src/observe/notify/command-notifier.js";
import { DeliveryQueue } from "../../src/observe/notify/delivery-queue.js";
import { EmailNotifier } from "../../src/observe/notify/email-notifier.js";
import { SlackNotifier } from "../../src/observe/notify/slack-notifier.js";
import { WebhookNotifier } from "../../src/observe/notify/webhook-notifier.js";
import type { WebhookPayload } from "../../src/observe/notify/webhook-payload.js";
import { freePort } from "../helpers/cli.js";
import { startSmtpSink } from "../helpers/smtp-sink.js";
import { eventually, processAlive } from "../helpers/wait.js";
import { ManualTimers } from "../unit/delivery/manual-timers.js";

interface Received {
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

/** A real HTTP receiver on loopback; each path answers as the test scripts it. */
class Receiver {
  readonly received: Received[] = [];
  /** Status codes to answer per path, in order; then 200. */
  readonly script = new Map<string, number[]>();
  /** Requests on /hold wait here until the test releases them. */
  readonly held: ServerResponse[] = [];
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.answer(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  on(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    for (const res of this.held) res.end();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    this.received.push({
      path,
      contentType: req.headers["content-type"],
      body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown,
    });
    if (path === "/hold") {
      this.held.push(res);
      return;
    }
    const status = this.script.get(path)?.shift() ?? 200;
    res.writeHead(status).end();
  }
}

const receiver = new Receiver();
const temp = mkdtempSync(join(tmpdir(), "baton-notifiers-"));
beforeAll(() => receiver.start());
afterAll(async () => {
  await receiver.stop();
  rmSync(temp, { recursive: true, force: true });
});

/** Batches made by the real engine: crash-loop firing for api, then resolved. */
function batches(receiverName: string): { firing: Notification; resolved: Notification } {
  const engine = new AlertEngine({
    defaultReceivers: [receiverName],
    timings: { groupWaitMs: 0, groupIntervalMs: 0, repeatIntervalMs: 60_000 },
  });
  const t0 = Date.UTC(2026, 10, 26, 12);
  engine.setRules(
    [
      ...BUILT_IN_RULES.filter((r) => r.name !== "crash-loop"),
      {
        name: "crash-loop",
        severity: "page",
        for: 0,
        summary: "{{ $labels.app }} is crash-looping\n.a line that starts with a dot",
      },
    ],
    t0,
  );
  engine.raise("crash-loop", { app: "api", replica: "2" }, t0);
  const [firing] = engine.tick(t0 + 1_000);
  engine.clear("crash-loop", { app: "api", replica: "2" }, t0 + 5_000);
  const [resolved] = engine.tick(t0 + 6_000);
  if (firing === undefined || resolved === undefined) throw new Error("the engine sent nothing");
  return { firing, resolved };
}

describe("webhook and slack notifiers", () => {
  it("POST Alertmanager's webhook JSON, firing then resolved", async () => {
    const { firing, resolved } = batches("ops");
    const hook = new WebhookNotifier("ops", { url: receiver.url("/hook?token=s3cret") });
    await hook.send(firing);
    await hook.send(resolved);
    const [first, second] = receiver.on("/hook");
    expect(first?.contentType).toBe("application/json");
    const payload = first?.body as WebhookPayload;
    expect(payload).toMatchObject({
      version: "4",
      status: "firing",
      receiver: "ops",
      groupKey: '{alertname="crash-loop",app="api"}',
      groupLabels: { alertname: "crash-loop", app: "api" },
      commonLabels: { alertname: "crash-loop", app: "api", replica: "2", severity: "page" },
    });
    expect(payload.alerts[0]).toMatchObject({
      status: "firing",
      labels: { alertname: "crash-loop", app: "api", replica: "2", severity: "page" },
      annotations: { summary: "api is crash-looping\n.a line that starts with a dot" },
      startsAt: "2026-11-26T12:00:00.000Z",
      endsAt: "0001-01-01T00:00:00Z",
    });
    const after = second?.body as WebhookPayload;
    expect(after.status).toBe("resolved");
    expect(after.alerts[0]).toMatchObject({
      status: "resolved",
      endsAt: "2026-11-26T12:00:05.000Z",
    });
  });

  it("POST a slack-compatible { text, blocks } body", async () => {
    const { firing } = batches("chat");
    await new SlackNotifier("chat", { url: receiver.url("/services/T0/B0/XYZ") }).send(firing);
    const [got] = receiver.on("/services/T0/B0/XYZ");
    const body = got?.body as { text: string; blocks: { type: string; text: { text: string } }[] };
    expect(body.text).toBe("[FIRING:1] crash-loop app=api");
    expect(body.blocks.map((b) => b.type)).toEqual(["header", "section"]);
    expect(body.blocks[1]?.text.text).toContain("FIRING [page] api is crash-looping");
  });

  it("name the receiver and host:port in errors, never the path or its token", async () => {
    const { firing } = batches("chat");
    receiver.script.set("/services/T0/B0/secret-token", [404]);
    const slack = new SlackNotifier("chat", {
      url: receiver.url("/services/T0/B0/secret-token"),
    });
    const error = await slack.send(firing).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toBe(
      `notifier "chat" (slack http://127.0.0.1:${receiver.port}/***): answered HTTP 404; check the URL and the receiver's configuration`,
    );
    const closed = await freePort();
    const refused = await new WebhookNotifier("ops", {
      url: `http://user:pw@127.0.0.1:${closed}/hook?token=abc`,
    })
      .send(firing)
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(refused?.message).toBe(
      `notifier "ops" (webhook http://127.0.0.1:${closed}/***): could not deliver (ECONNREFUSED)`,
    );
    expect(() => new WebhookNotifier("ops", { url: "hooks.example/abc" })).toThrow(
      'notifier "ops": the webhook URL is not a valid URL; write it as http(s)://host[:port]/path',
    );
  });
});

describe("delivery queue", () => {
  const fast = { backoff: { baseMs: 20, maxMs: 100 } };

  it("returns at once, and delivers after the receiver answered 500 twice", async () => {
    const { firing } = batches("flaky");
    receiver.script.set("/flaky", [500, 500]);
    const delivered: number[] = [];
    const queue = new DeliveryQueue(
      [new WebhookNotifier("flaky", { url: receiver.url("/flaky") })],
      { ...fast, onDelivered: (_r, _b, attempts) => delivered.push(attempts) },
    );
    await queue.send(firing);
    expect(receiver.on("/flaky")).toHaveLength(0);
    expect(queue.pending()).toBe(1);
    await eventually(
      "the batch is delivered",
      () => delivered,
      (d) => d.length === 1,
    );
    expect(delivered).toEqual([3]);
    const bodies = receiver.on("/flaky").map((r) => JSON.stringify(r.body));
    expect(bodies).toHaveLength(3);
    expect(new Set(bodies).size).toBe(1);
    expect(queue.pending()).toBe(0);
  });

  it("backs off exponentially, capped and jittered, on the injected timers", async () => {
    const { firing } = batches("backoff");
    receiver.script.set("/backoff", [500, 500, 500, 500]);
    const timers = new ManualTimers(0);
    const delivered: number[] = [];
    const queue = new DeliveryQueue(
      [new WebhookNotifier("backoff", { url: receiver.url("/backoff") })],
      {
        backoff: { baseMs: 1_000, maxMs: 2_500 },
        timers,
        random: () => 0.5,
        onDelivered: (_r, _b, attempts) => delivered.push(attempts),
      },
    );
    queue.enqueue(firing);
    for (let failures = 1; failures <= 4; failures++) {
      await eventually(
        `retry ${failures} is scheduled`,
        () => timers.count,
        (n) => n === 1,
      );
      expect(receiver.on("/backoff")).toHaveLength(failures);
      timers.advanceTo(timers.now() + 10_000);
    }
    await eventually(
      "the batch is delivered",
      () => delivered,
      (d) => d.length === 1,
    );
    // Doubling from 1 s, capped at 2.5 s, each drawn from [half, whole] (here the middle).
    expect(timers.waits).toEqual([750, 1_500, 1_875, 1_875]);
    expect(delivered).toEqual([5]);
  });

  it("reports a receiver that keeps failing, with host:port and no secret", async () => {
    const { firing } = batches("down");
    receiver.script.set("/down/abc-token", [500, 500, 500]);
    const failures: string[] = [];
    const drops: string[] = [];
    const queue = new DeliveryQueue(
      [new SlackNotifier("down", { url: receiver.url("/down/abc-token") })],
      {
        ...fast,
        maxAttempts: 3,
        onFailure: (r, error, attempts) => failures.push(`${r} ${attempts} ${error.message}`),
        onDrop: (_r, _b, reason) => drops.push(reason),
      },
    );
    queue.enqueue(firing);
    await eventually(
      "the failure is reported",
      () => failures,
      (f) => f.length === 1,
    );
    expect(failures[0]).toBe(
      `down 3 notifier "down" (slack http://127.0.0.1:${receiver.port}/***): answered HTTP 500`,
    );
    expect(drops[0]).toMatch(/^gave up after 3 attempts/);
    expect([...failures, ...drops].join()).not.toContain("abc-token");
  });

  it("is bounded: a full lane drops its oldest waiting batch and says why", async () => {
    const { firing, resolved } = batches("slow");
    const drops: string[] = [];
    const delivered: string[] = [];
    const queue = new DeliveryQueue([new WebhookNotifier("slow", { url: receiver.url("/hold") })], {
      capacity: 2,
      onDrop: (_r, batch, reason) => drops.push(`${batch.groupKey} ${reason}`),
      onDelivered: (_r, batch) => delivered.push(batch.resolved.length > 0 ? "r" : "f"),
    });
    const one = { ...firing, groupKey: "one" };
    queue.enqueue(one);
    await eventually(
      "the first batch is in flight",
      () => receiver.held.length,
      (n) => n === 1,
    );
    queue.enqueue({ ...firing, groupKey: "two" });
    queue.enqueue({ ...resolved, groupKey: "three" });
    queue.enqueue({ ...resolved, groupKey: "four" });
    expect(queue.pending()).toBe(3);
    expect(drops).toEqual([
      `two queue full (2 batches waiting for webhook http://127.0.0.1:${receiver.port}/***); dropped the oldest`,
    ]);
    queue.enqueue({ ...firing, receiver: "nobody" });
    expect(drops[1]).toContain('no notifier named "nobody" (defined: slow)');
    // Release each request as it arrives until the lane is empty.
    await eventually(
      "the lane drains",
      () => {
        for (const res of receiver.held.splice(0)) res.writeHead(200).end();
        return queue.pending();
      },
      (n) => n === 0,
    );
    expect(receiver.on("/hold").map((r) => (r.body as WebhookPayload).groupKey)).toEqual([
      "one",
      "three",
      "four",
    ]);
    expect(delivered).toEqual(["f", "r", "r"]);
  });
});

describe("command notifier", () => {
  it("runs the program with the webhook JSON on stdin", async () => {
    const { firing } = batches("script");
    const script = join(temp, "notify.sh");
    const out = join(temp, "payload.json");
    writeFileSync(script, '#!/bin/sh\ncat > "$1"\nenv > "$1.env"\n');
    chmodSync(script, 0o755);
    process.env.BATON_TEST_SECRET = "s3cret";
    try {
      await new CommandNotifier("script", { argv: [script, out] }).send(firing);
    } finally {
      delete process.env.BATON_TEST_SECRET;
    }
    const payload = JSON.parse(readFileSync(out, "utf8")) as WebhookPayload;
    expect(payload.status).toBe("firing");
    expect(payload.alerts[0]?.labels.app).toBe("api");
    // Only PATH, HOME and LANG from the controller's environment (and what sh adds itself).
    const names = readFileSync(`${out}.env`, "utf8")
      .split("\n")
      .map((line) => line.split("=")[0]);
    expect(names).toContain("PATH");
    expect(names).not.toContain("BATON_TEST_SECRET");
  });

  it("kills a program that outlives its timeout, and words failures without its arguments", async () => {
    const { firing } = batches("script");
    const script = join(temp, "hang.sh");
    const pidFile = join(temp, "hang.pid");
    // The sleep is a grandchild in the background: the timeout must end it too.
    writeFileSync(script, '#!/bin/sh\nsleep 30 &\necho $! > "$1"\nwait\n');
    chmodSync(script, 0o755);
    const started = Date.now();
    const error = await new CommandNotifier("script", {
      argv: [script, pidFile, "--token=zzz"],
      timeoutMs: 300,
    })
      .send(firing)
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(error?.message).toBe(
      'notifier "script" (command hang.sh): killed after 300 ms without finishing',
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    const pid = Number(readFileSync(pidFile, "utf8"));
    await eventually(
      "the killed program is gone",
      () => processAlive(pid),
      (alive) => !alive,
    );

    const failing = join(temp, "fail.sh");
    writeFileSync(failing, "#!/bin/sh\necho 'zzz secret' >&2\nexit 3\n");
    chmodSync(failing, 0o755);
    const failed = await new CommandNotifier("script", { argv: [failing] }).send(firing).then(
      () => undefined,
      (e: Error & { stderrTail?: string }) => e,
    );
    expect(failed?.message).toBe('notifier "script" (command fail.sh): exited with status 3');
    expect(failed?.stderrTail).toBe("zzz secret\n");
    const missing = join(temp, "missing.sh");
    await expect(new CommandNotifier("script", { argv: [missing] }).send(firing)).rejects.toThrow(
      'notifier "script" (command missing.sh): could not start (ENOENT); check the path and that it is executable',
    );
    expect(existsSync(missing)).toBe(false);
  });
});

describe("email notifier", () => {
  it("delivers to a real SMTP server on loopback (smtp-sink), headers and dot-stuffed body intact", async () => {
    const sink = await startSmtpSink();
    try {
      const { firing } = batches("mail");
      const mail = new EmailNotifier("mail", {
        smtp: `127.0.0.1:${sink.port}`,
        from: "baton@example.test",
        to: ["ops@example.test", "oncall@example.test"],
        helo: "baton.test",
      });
      expect(mail.target).toBe(`email smtp 127.0.0.1:${sink.port}`);
      await mail.send(firing);
      const [message] = await eventually(
        "smtp-sink stored the message",
        sink.messages,
        (m) => m.length === 1,
      );
      expect(message).toContain("X-Helo-Args: baton.test");
      expect(message).toContain("X-Mail-Args: <baton@example.test>");
      expect(message).toContain("X-Rcpt-Args: <ops@example.test>");
      expect(message).toContain("X-Rcpt-Args: <oncall@example.test>");
      expect(message).toContain("\nFrom: baton@example.test\n");
      expect(message).toContain("\nTo: ops@example.test, oncall@example.test\n");
      expect(message).toContain("\nSubject: [FIRING:1] crash-loop app=api\n");
      expect(message).toContain("\nContent-Type: text/plain; charset=utf-8\n");
      expect(message).toMatch(/\nMessage-ID: <[0-9a-f-]+@baton\.test>\n/);
      // The summary's second line starts with "."; it arrives undoubled, so it was stuffed.
      expect(message).toContain(
        "\n\n[FIRING:1] crash-loop app=api\nFIRING [page] api is crash-looping\n.a line that starts with a dot (app=api replica=2) since 2026-11-26T12:00:00.000Z\n",
      );
    } finally {
      await sink.stop();
    }
  });

  it("sends AUTH PLAIN when the relay offers it, and no credentials when it does not", async () => {
    const password = `smtp-${randomBytes(12).toString("hex")}`;
    const plain = Buffer.from(`\0baton\0${password}`).toString("base64");
    for (const offered of [true, false]) {
      const sink = await startSmtpSink({ verbose: true, noAuth: !offered });
      try {
        const mail = new EmailNotifier("mail", {
          smtp: `127.0.0.1:${sink.port}`,
          from: "baton@example.test",
          to: ["ops@example.test"],
          username: "baton",
          password,
        });
        expect(mail.target).not.toContain(password);
        await mail.send(batches("mail").firing);
        await eventually("smtp-sink stored the message", sink.messages, (m) => m.length === 1);
        const said = await eventually("smtp-sink logged QUIT", sink.conversation, (c) =>
          c.includes("QUIT"),
        );
        if (offered) expect(said).toContain(`AUTH PLAIN ${plain}`);
        else expect(said).not.toContain("AUTH");
      } finally {
        await sink.stop();
      }
    }
  });

  it("names the relay when it cannot be reached", async () => {
    const { firing } = batches("mail");
    const closed = await freePort();
    const mail = new EmailNotifier("mail", {
      smtp: `127.0.0.1:${closed}`,
      from: "baton@example.test",
      to: ["ops@example.test"],
    });
    await expect(mail.send(firing)).rejects.toThrow(
      `notifier "mail" (email smtp 127.0.0.1:${closed}): could not connect to SMTP 127.0.0.1:${closed} (ECONNREFUSED)`,
    );
    expect(() => new EmailNotifier("mail", { smtp: "localhost", from: "a", to: ["b"] })).toThrow(
      'notifier "mail": smtp must be host:port (e.g. 127.0.0.1:25), got "localhost"',
    );
  });
});
