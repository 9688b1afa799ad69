import { describe, expect, it } from "vitest";
import { backoffDelay } from "../../../src/observe/notify/backoff.js";
import {
  type NotifierSpec,
  notifierFromSpec,
} from "../../../src/observe/notify/notifier-from-spec.js";

describe("notifiers from the definition", () => {
  it("builds each kind, describing its target without paths or secrets", () => {
    const targets = Object.entries({
      ops: { webhook: "https://user:pw@hooks.example.test/alert?token=abc" },
      chat: { slack: "https://hooks.slack.test/services/T0/B0/secret" },
      mail: { email: { smtp: "127.0.0.1:25", from: "baton@x.test", to: ["ops@x.test"] } },
      page: { command: ["/usr/local/bin/page", "--key=secret"], timeoutMs: 5_000 },
    } satisfies Record<string, NotifierSpec>).map(
      ([name, spec]) => notifierFromSpec(name, spec).target,
    );
    expect(targets).toEqual([
      "webhook https://hooks.example.test:443/***",
      "slack https://hooks.slack.test:443/***",
      "email smtp 127.0.0.1:25",
      "command page",
    ]);
  });

  it("says what is wrong with a malformed entry", () => {
    expect(() => notifierFromSpec("ops", {} as NotifierSpec)).toThrow(
      'notifier "ops" must have exactly one of webhook, slack, email, command; it has none',
    );
    expect(() =>
      notifierFromSpec("ops", {
        webhook: "http://a.test/",
        slack: "http://b.test/",
      } as NotifierSpec),
    ).toThrow("it has webhook and slack");
    expect(() => notifierFromSpec("ops", { webhook: "ftp://a.test/x" })).toThrow(
      'notifier "ops": the webhook URL must start with http:// or https://, not ftp:',
    );
    expect(() => notifierFromSpec("page", { command: [] })).toThrow(/command needs a program/);
  });
});

describe("retry backoff", () => {
  it("doubles, caps and jitters into [half, whole]", () => {
    const policy = { baseMs: 100, maxMs: 1_000 };
    expect([1, 2, 3, 4, 5, 50].map((n) => backoffDelay(n, policy, () => 0))).toEqual([
      50, 100, 200, 400, 500, 500,
    ]);
    expect(backoffDelay(3, policy, () => 0.999_999)).toBe(400);
  });
});
