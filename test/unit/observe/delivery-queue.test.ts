import { describe, expect, it } from "vitest";
import type { Notification } from "../../../src/observe/alerts/types.js";
import { DeliveryQueue, type RetryPlan } from "../../../src/observe/notify/delivery-queue.js";
import { type Notifier, NotifierError } from "../../../src/observe/notify/notifier.js";
import { eventually } from "../../helpers/wait.js";
import { ManualTimers } from "../delivery/manual-timers.js";

/** A receiver in the test's hands: each send takes the next answer of its script (then ok). */
class ScriptedNotifier implements Notifier {
  readonly target = "webhook http://127.0.0.1:9/***";
  readonly sent: string[] = [];

  constructor(
    readonly receiver: string,
    private readonly script: ("ok" | "fail")[] = [],
  ) {}

  answer(...next: ("ok" | "fail")[]): void {
    this.script.push(...next);
  }

  send(batch: Notification): Promise<void> {
    this.sent.push(batch.groupKey);
    if ((this.script.shift() ?? "ok") === "ok") return Promise.resolve();
    return Promise.reject(new NotifierError(this.receiver, this.target, "answered HTTP 500"));
  }
}

function batch(groupKey: string, receiver = "ops"): Notification {
  return { receiver, groupKey, groupLabels: {}, firing: [], resolved: [] };
}

function queueOf(notifier: ScriptedNotifier, maxAttempts = 4) {
  const timers = new ManualTimers(0);
  const retrying: string[] = [];
  const outcomes: string[] = [];
  const queue = new DeliveryQueue([notifier], {
    maxAttempts,
    backoff: { baseMs: 1_000, maxMs: 8_000 },
    timers,
    random: () => 1,
    onRetrying: (receiver, error, plan: RetryPlan) =>
      retrying.push(
        `${receiver} ${plan.attempt}/${plan.maxAttempts} in ${plan.delayMs}: ${error.message}`,
      ),
    onDelivered: (_r, b, attempts) => outcomes.push(`delivered ${b.groupKey} after ${attempts}`),
    onDrop: (_r, b, reason) => outcomes.push(`dropped ${b.groupKey}: ${reason}`),
  });
  /** Waits for the retry the failed attempt schedules, then lets its time pass. */
  const retryNow = async () => {
    await eventually(
      "a retry is scheduled",
      () => timers.count,
      (n) => n === 1,
    );
    timers.advanceTo(timers.now() + 10_000);
  };
  return { queue, timers, retrying, outcomes, retryNow };
}

describe("delivery queue: a failing receiver is reported early, once per streak", () => {
  it("reports the first failed attempt that will be retried, not every retry; a delivery ends the streak", async () => {
    const ops = new ScriptedNotifier("ops", ["fail", "fail", "fail"]);
    const { queue, retrying, outcomes, retryNow } = queueOf(ops);
    queue.enqueue(batch("one"));
    for (let i = 0; i < 3; i++) await retryNow();
    await eventually(
      "the batch is delivered",
      () => outcomes,
      (o) => o.length === 1,
    );
    expect(outcomes).toEqual(["delivered one after 4"]);
    expect(retrying).toEqual([
      'ops 1/4 in 1000: notifier "ops" (webhook http://127.0.0.1:9/***): answered HTTP 500',
    ]);

    // A new streak is reported anew.
    ops.answer("fail");
    queue.enqueue(batch("two"));
    await retryNow();
    await eventually(
      "the second batch is delivered",
      () => outcomes,
      (o) => o.length === 2,
    );
    expect(retrying).toHaveLength(2);
    expect(retrying[1]).toMatch(/^ops 1\/4 in 1000: /);
  });

  it("keeps one streak across batches given up, until something is delivered", async () => {
    const ops = new ScriptedNotifier("ops", ["fail", "fail", "fail", "fail"]);
    const { queue, retrying, outcomes, retryNow } = queueOf(ops, 2);
    queue.enqueue(batch("one"));
    queue.enqueue(batch("two"));
    await retryNow();
    await retryNow();
    await eventually(
      "both batches are given up",
      () => outcomes,
      (o) => o.length === 2,
    );
    expect(outcomes).toEqual([
      'dropped one: gave up after 2 attempts: notifier "ops" (webhook http://127.0.0.1:9/***): answered HTTP 500',
      'dropped two: gave up after 2 attempts: notifier "ops" (webhook http://127.0.0.1:9/***): answered HTTP 500',
    ]);
    expect(retrying).toHaveLength(1);
    expect(ops.sent).toEqual(["one", "one", "two", "two"]);
  });

  it("says nothing of retrying when the first failure gives the batch up", async () => {
    const ops = new ScriptedNotifier("ops", ["fail"]);
    const { queue, retrying, outcomes } = queueOf(ops, 1);
    queue.enqueue(batch("one"));
    await eventually(
      "the batch is given up",
      () => outcomes,
      (o) => o.length === 1,
    );
    expect(outcomes[0]).toMatch(/^dropped one: gave up after 1 attempts/);
    expect(retrying).toEqual([]);
  });

  it("reports every batch it will not deliver when stopped, the one being retried included", async () => {
    const ops = new ScriptedNotifier("ops", ["fail"]);
    const { queue, timers, outcomes } = queueOf(ops);
    queue.enqueue(batch("one"));
    queue.enqueue(batch("two"));
    await eventually(
      "a retry is scheduled",
      () => timers.count,
      (n) => n === 1,
    );
    queue.stop();
    queue.enqueue(batch("three"));
    expect(outcomes).toEqual([
      "dropped one: the delivery queue stopped",
      "dropped two: the delivery queue stopped",
      "dropped three: the delivery queue is stopped",
    ]);
    expect(timers.count).toBe(0);
  });
});
