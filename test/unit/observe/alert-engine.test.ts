import { describe, expect, it } from "vitest";
import { AlertEngine, type AlertEngineOptions } from "../../../src/observe/alerts/alert-engine.js";
import { BUILT_IN_RULES } from "../../../src/observe/alerts/built-in-rules.js";
import { parseMatcher } from "../../../src/observe/alerts/silences.js";
import type {
  AlertRecord,
  AlertRule,
  Notification,
  TransitionRecord,
} from "../../../src/observe/alerts/types.js";

const SECOND = 1_000;
const T0 = Date.UTC(2026, 0, 1);
const timings = {
  groupWaitMs: 10 * SECOND,
  groupIntervalMs: 60 * SECOND,
  repeatIntervalMs: 300 * SECOND,
};

const apiErrors: AlertRule = {
  name: "api-errors",
  severity: "page",
  for: 60 * SECOND,
  summary: "{{ $labels.app }} error ratio is {{ $value }}",
};

function engineWith(options: Partial<AlertEngineOptions> = {}) {
  const records: AlertRecord[] = [];
  const engine = new AlertEngine({
    defaultReceivers: ["ops"],
    timings,
    onRecord: (r) => records.push(r),
    ...options,
  });
  engine.setRules([apiErrors, ...BUILT_IN_RULES], T0);
  const transitions = () =>
    records
      .filter((r): r is TransitionRecord => r.kind === "transition")
      .map((r) => `${r.labels.app ?? ""}:${r.from}->${r.to}@${(r.at - T0) / SECOND}`);
  return { engine, records, transitions };
}

const at = (seconds: number) => T0 + seconds * SECOND;
const api = { app: "api" };
const names = (batch: Notification | undefined, which: "firing" | "resolved") =>
  batch?.[which].map((a) => `${a.labels.app}/${a.labels.replica ?? ""}`) ?? [];

describe("alert lifecycle", () => {
  it("goes pending, then firing after `for`, then resolved; a pending blip notifies nobody", () => {
    const { engine, transitions } = engineWith();
    engine.evaluate(apiErrors, [{ labels: api, value: 0.2 }], at(0));
    engine.evaluate(apiErrors, [{ labels: api, value: 0.2 }], at(30));
    engine.evaluate(apiErrors, [], at(40));
    expect(engine.tick(at(100))).toEqual([]);
    expect(transitions()).toEqual(["api:inactive->pending@0", "api:pending->inactive@40"]);

    engine.evaluate(apiErrors, [{ labels: api, value: 0.3 }], at(100));
    engine.evaluate(apiErrors, [{ labels: api, value: 0.3 }], at(159));
    expect(engine.active(at(159)).map((a) => a.state)).toEqual(["pending"]);
    engine.evaluate(apiErrors, [{ labels: api, value: 0.4 }], at(160));
    expect(engine.active(at(160)).map((a) => a.state)).toEqual(["firing"]);
    // group_wait: alerts arriving together go out together, 10 s after the group appeared.
    expect(engine.tick(at(165))).toEqual([]);
    const [first, ...none] = engine.tick(at(170));
    expect(none).toEqual([]);
    expect(first?.receiver).toBe("ops");
    expect(first?.groupKey).toBe('{alertname="api-errors",app="api"}');
    expect(first?.firing[0]?.annotations.summary).toBe("api error ratio is 0.4");
    expect(first?.firing[0]?.startsAt).toBe(at(160));
    expect(first?.firing[0]?.labels).toMatchObject({ alertname: "api-errors", severity: "page" });

    engine.evaluate(apiErrors, [], at(200));
    expect(engine.active(at(200))).toEqual([]);
    // group_interval counts from the last notification (170 + 60).
    expect(engine.tick(at(229))).toEqual([]);
    const [resolved] = engine.tick(at(230));
    expect(names(resolved, "resolved")).toEqual(["api/"]);
    expect(resolved?.resolved[0]?.endsAt).toBe(at(200));
    expect(resolved?.firing).toEqual([]);
    expect(engine.tick(at(1000))).toEqual([]);
    expect(engine.nextDueAt()).toBeUndefined();
    expect(transitions()).toEqual([
      "api:inactive->pending@0",
      "api:pending->inactive@40",
      "api:inactive->pending@100",
      "api:pending->firing@160",
      "api:firing->resolved@200",
    ]);
  });

  it("fires at once when `for` is 0 and never tells a resolution nobody heard fire", () => {
    const { engine, transitions } = engineWith();
    const instant = { ...apiErrors, for: 0 };
    engine.evaluate(instant, [{ labels: api, value: 1 }], at(0));
    engine.evaluate(instant, [], at(5));
    expect(transitions()).toEqual(["api:inactive->firing@0", "api:firing->resolved@5"]);
    expect(engine.tick(at(10))).toEqual([]);
    expect(engine.tick(at(100))).toEqual([]);
  });
});

describe("grouping and receivers", () => {
  it("groups by alertname and app, one batch per receiver and group", () => {
    const { engine } = engineWith();
    const instant = { ...apiErrors, for: 0 };
    engine.evaluate(
      instant,
      [
        { labels: { app: "api", replica: "1" }, value: 1 },
        { labels: { app: "api", replica: "2" }, value: 1 },
        { labels: { app: "web", replica: "1" }, value: 1 },
      ],
      at(0),
    );
    const batches = engine.tick(at(10));
    expect(batches.map((b) => b.groupKey).sort()).toEqual([
      '{alertname="api-errors",app="api"}',
      '{alertname="api-errors",app="web"}',
    ]);
    const apiBatch = batches.find((b) => b.groupLabels.app === "api");
    expect(names(apiBatch, "firing")).toEqual(["api/1", "api/2"]);
  });

  it("sends a rule's alerts to its own receivers, others to the default ones", () => {
    const { engine } = engineWith();
    const own = { ...apiErrors, name: "own", for: 0, notify: ["dev", "pager"] };
    const quiet = { ...apiErrors, name: "quiet", for: 0, notify: [] };
    engine.evaluate(own, [{ labels: api, value: 1 }], at(0));
    engine.evaluate(quiet, [{ labels: api, value: 1 }], at(0));
    engine.raise("crash-loop", api, at(0));
    const sent = engine.tick(at(10)).map((b) => `${b.receiver} ${b.groupLabels.alertname}`);
    expect(sent.sort()).toEqual(["dev own", "ops crash-loop", "pager own"]);
  });

  it("honours a configured group_by", () => {
    const { engine } = engineWith({ groupBy: ["severity"] });
    engine.raise("crash-loop", api, at(0));
    engine.raise("rollout-failed", { app: "web" }, at(1));
    const [batch] = engine.tick(at(11));
    expect(batch?.groupKey).toBe('{severity="page"}');
    expect(batch?.firing.map((a) => a.rule)).toEqual(["crash-loop", "rollout-failed"]);
  });

  it("tells a new alert in a told group at the group interval, an unchanged group at the repeat interval", () => {
    const { engine } = engineWith();
    engine.raise("crash-loop", { app: "api", replica: "1" }, at(0));
    expect(engine.tick(at(10))).toHaveLength(1);
    engine.raise("crash-loop", { app: "api", replica: "2" }, at(20));
    expect(engine.tick(at(69))).toEqual([]);
    expect(engine.nextDueAt()).toBe(at(70));
    const [changed] = engine.tick(at(70));
    expect(names(changed, "firing")).toEqual(["api/1", "api/2"]);
    // Nothing changes now: only the repeat interval brings it back, 300 s after the last.
    expect(engine.tick(at(200))).toEqual([]);
    expect(engine.nextDueAt()).toBe(at(370));
    expect(engine.tick(at(369))).toEqual([]);
    const [repeat] = engine.tick(at(370));
    expect(names(repeat, "firing")).toEqual(["api/1", "api/2"]);
  });
});

describe("rules removed from the definition", () => {
  it("take their alerts away without a notification, and say so in the history", () => {
    const { engine, transitions } = engineWith();
    engine.raise("crash-loop", api, at(0));
    expect(engine.tick(at(10))).toHaveLength(1);
    engine.setRules([apiErrors], at(20));
    expect(engine.active(at(20))).toEqual([]);
    expect(engine.tick(at(10_000))).toEqual([]);
    expect(engine.nextDueAt()).toBeUndefined();
    expect(transitions()).toEqual(["api:inactive->firing@0", "api:firing->inactive@20"]);
  });
});

describe("alerts raised from events", () => {
  it("raise fires a built-in rule; clear resolves it; a raise with `for` waits for tick", () => {
    const { engine, transitions } = engineWith();
    engine.raise("crash-loop", api, at(0));
    engine.raise("crash-loop", api, at(1));
    expect(engine.active(at(1)).map((a) => `${a.rule} ${a.state}`)).toEqual(["crash-loop firing"]);
    engine.raise("replica-not-ready", api, at(0));
    engine.tick(at(119));
    expect(engine.active(at(119)).find((a) => a.rule === "replica-not-ready")?.state).toBe(
      "pending",
    );
    engine.tick(at(120));
    expect(engine.active(at(120)).find((a) => a.rule === "replica-not-ready")?.state).toBe(
      "firing",
    );
    engine.clear("crash-loop", api, at(130));
    engine.clear("crash-loop", { app: "never-raised" }, at(130));
    expect(transitions()).toEqual([
      "api:inactive->firing@0",
      "api:inactive->pending@0",
      "api:pending->firing@120",
      "api:firing->resolved@130",
    ]);
    expect(engine.active(at(130)).map((a) => a.rule)).toEqual(["replica-not-ready"]);
  });

  it("names the known rules when raising an unknown one", () => {
    const { engine } = engineWith();
    expect(() => engine.raise("crashloop", api, at(0))).toThrow(
      /no alert rule named "crashloop" \(known: api-errors, crash-loop,/,
    );
  });
});

describe("silences", () => {
  it("mute notifications but not state changes, and notifying resumes when they expire", () => {
    const { engine, transitions } = engineWith();
    engine.addSilence({
      id: "s1",
      matchers: [parseMatcher("app=api"), parseMatcher("alertname=~crash.*")],
      until: at(100),
      createdBy: "alice",
      comment: "deploying a fix",
    });
    engine.raise("crash-loop", api, at(0));
    engine.raise("crash-loop", { app: "web" }, at(0));
    const [web, ...others] = engine.tick(at(10));
    expect(others).toEqual([]);
    expect(web?.groupLabels.app).toBe("web");
    expect(engine.active(at(10)).map((a) => `${a.labels.app} ${a.silencedBy ?? "-"}`)).toEqual([
      "api s1",
      "web -",
    ]);
    expect(transitions()).toContain("api:inactive->firing@0");
    expect(engine.tick(at(99))).toEqual([]);
    const [api100] = engine.tick(at(100));
    expect(api100?.groupLabels.app).toBe("api");
    expect(engine.silences(at(100))).toEqual([]);
  });

  it("keep a resolution quiet when the firing was never told", () => {
    const { engine } = engineWith();
    engine.addSilence({
      id: "s2",
      matchers: [parseMatcher('app="api"')],
      until: at(1000),
      createdBy: "bob",
      comment: "",
    });
    engine.raise("crash-loop", api, at(0));
    expect(engine.tick(at(10))).toEqual([]);
    engine.clear("crash-loop", api, at(20));
    expect(engine.tick(at(2000))).toEqual([]);
  });

  it("reject matchers that are not label=value, and silences that would mute everything", () => {
    expect(parseMatcher("env!~dev|test")).toEqual({ label: "env", op: "!~", value: "dev|test" });
    expect(() => parseMatcher("app")).toThrow(/not label=value.*e\.g\. app=api/);
    expect(() => parseMatcher("app=~(")).toThrow(/not a valid regular expression/);
    const { engine } = engineWith();
    expect(() =>
      engine.addSilence({ id: "all", matchers: [], until: at(1), createdBy: "x", comment: "" }),
    ).toThrow(/no matchers and would mute every alert/);
  });
});

describe("restore after a restart", () => {
  it("keeps firing alerts firing and does not repeat them before the repeat interval", () => {
    const before = engineWith();
    const instant = { ...apiErrors, for: 0 };
    before.engine.evaluate(instant, [{ labels: api, value: 1 }], at(0));
    before.engine.raise("replica-not-ready", api, at(0));
    const [told] = before.engine.tick(at(10));
    before.engine.delivered(told as Notification, at(10));
    // Fired after the last notification: the restarted engine still owes it.
    before.engine.raise("crash-loop", { app: "web" }, at(50));

    const after = engineWith();
    after.engine.restore(before.records);
    expect(after.engine.active(at(60)).map((a) => `${a.rule} ${a.labels.app} ${a.state}`)).toEqual([
      "api-errors api firing",
      "replica-not-ready api pending",
      "crash-loop web firing",
    ]);
    const owed = after.engine.tick(at(60));
    expect(owed.map((b) => b.groupKey)).toEqual(['{alertname="crash-loop",app="web"}']);
    // The same condition still holding is no transition and no notification.
    after.engine.evaluate(instant, [{ labels: api, value: 1 }], at(70));
    expect(after.records.filter((r) => r.kind === "transition")).toEqual([]);
    // The restored pending alert becomes firing once its `for` has passed (at 120).
    expect(after.engine.tick(at(300))).toEqual([]);
    expect(after.engine.active(at(300)).find((a) => a.rule === "replica-not-ready")?.state).toBe(
      "firing",
    );
    const repeated = after.engine.tick(at(310));
    expect(repeated.map((b) => b.groupKey).sort()).toEqual([
      '{alertname="api-errors",app="api"}',
      '{alertname="replica-not-ready",app="api"}',
    ]);
  });

  it("tells a resolution owed before the restart", () => {
    const before = engineWith();
    before.engine.raise("crash-loop", api, at(0));
    const [told] = before.engine.tick(at(10));
    before.engine.delivered(told as Notification, at(10));
    before.engine.clear("crash-loop", api, at(20));
    const after = engineWith();
    after.engine.restore(before.records);
    expect(after.engine.active(at(30))).toEqual([]);
    const [resolved] = after.engine.tick(at(70));
    expect(names(resolved, "resolved")).toEqual(["api/"]);
  });
});

describe("at-least-once delivery", () => {
  const notifiedAt = (records: readonly AlertRecord[]) =>
    records
      .filter((r) => r.kind === "notified")
      .map((r) => `${r.labels.app}:${r.status}@${(r.at - T0) / SECOND}`);

  it("records a batch as told when it is delivered, at the delivery time, not when handed out", () => {
    const { engine, records } = engineWith();
    engine.raise("crash-loop", api, at(0));
    const [batch] = engine.tick(at(10));
    expect(notifiedAt(records)).toEqual([]);
    // Handed out counts as told meanwhile: the next tick does not hand it out twice.
    expect(engine.tick(at(11))).toEqual([]);
    engine.delivered(batch as Notification, at(12));
    expect(notifiedAt(records)).toEqual(["api:firing@12"]);
  });

  it("sends an undelivered firing batch again at the group interval, not the repeat interval", () => {
    const { engine, records } = engineWith();
    engine.raise("crash-loop", api, at(0));
    const [lost] = engine.tick(at(10));
    engine.undelivered(lost as Notification, at(40));
    // The last send time stays: a failing receiver is tried once per group interval.
    expect(engine.nextDueAt()).toBe(at(70));
    expect(engine.tick(at(69))).toEqual([]);
    const [again] = engine.tick(at(70));
    expect(names(again, "firing")).toEqual(["api/"]);
    // Giving the same batch back twice changes nothing.
    engine.undelivered(lost as Notification, at(71));
    engine.delivered(again as Notification, at(71));
    expect(engine.nextDueAt()).toBe(at(370));
    expect(notifiedAt(records)).toEqual(["api:firing@71"]);
  });

  it("tells a resolution again when its batch was lost, unless the alert fired anew", () => {
    const { engine } = engineWith();
    engine.raise("crash-loop", api, at(0));
    engine.raise("crash-loop", { app: "web" }, at(0));
    for (const batch of engine.tick(at(10))) engine.delivered(batch, at(10));
    engine.clear("crash-loop", api, at(20));
    engine.clear("crash-loop", { app: "web" }, at(20));
    const lost = engine.tick(at(70));
    expect(lost.map((b) => names(b, "resolved")).sort()).toEqual([["api/"], ["web/"]]);
    expect(engine.nextDueAt()).toBeUndefined();
    for (const batch of lost) engine.undelivered(batch, at(75));
    engine.raise("crash-loop", { app: "web" }, at(80));
    expect(engine.tick(at(134))).toEqual([]);
    const again = engine.tick(at(135));
    const byApp = (app: string) => again.find((b) => b.groupLabels.app === app);
    expect(names(byApp("api"), "resolved")).toEqual(["api/"]);
    expect(byApp("api")?.resolved[0]?.endsAt).toBe(at(20));
    // web's receiver never heard it stop, so it still holds it firing: no news, as for a flap
    // within the group interval; it is repeated at the repeat interval.
    expect(byApp("web")).toBeUndefined();
    const [repeat] = engine.tick(at(375));
    expect(names(repeat, "firing")).toEqual(["web/"]);
  });

  it("leaves a lost batch's firing alerts told when a newer batch of the group carries them", () => {
    const { engine } = engineWith();
    engine.raise("crash-loop", { app: "api", replica: "1" }, at(0));
    const [older] = engine.tick(at(10));
    engine.raise("crash-loop", { app: "api", replica: "2" }, at(20));
    const [newer] = engine.tick(at(70));
    expect(names(newer, "firing")).toEqual(["api/1", "api/2"]);
    engine.undelivered(older as Notification, at(75));
    expect(engine.tick(at(130))).toEqual([]);
    expect(engine.nextDueAt()).toBe(at(370));
  });

  it("sends again after a restart what was still queued, and keeps an alert that fired again before a resolution arrived", () => {
    const before = engineWith();
    before.engine.raise("crash-loop", api, at(0));
    before.engine.raise("crash-loop", { app: "web" }, at(0));
    const [first, second] = before.engine.tick(at(10));
    // api's batch arrived; web's was still in the queue when the controller stopped.
    const apiBatch = first?.groupLabels.app === "api" ? first : second;
    before.engine.delivered(apiBatch as Notification, at(11));
    before.engine.clear("crash-loop", api, at(20));
    const [resolution] = before.engine.tick(at(71));
    before.engine.raise("crash-loop", api, at(75));
    before.engine.delivered(resolution as Notification, at(76));

    const after = engineWith();
    after.engine.restore(before.records);
    const resent = after.engine.tick(at(80));
    expect(resent.map((b) => names(b, "firing"))).toEqual([["web/"]]);
    // The resolution arrived after api fired again: that firing is still owed.
    const [api75] = after.engine.tick(at(136));
    expect(names(api75, "firing")).toEqual(["api/"]);
    expect(api75?.firing[0]?.startsAt).toBe(at(75));
  });
});
