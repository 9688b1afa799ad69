import { randomBytes } from "node:crypto";
import type { AlertsAnswer } from "../api/alerts.js";
import type { AppStatus } from "../apps/status.js";
import { type AlertingSpec, type Definition, formatDuration } from "../definition/index.js";
import { AlertEngine } from "../observe/alerts/alert-engine.js";
import { BUILT_IN_RULES } from "../observe/alerts/built-in-rules.js";
import type { AlertRecord, AlertRule, Silence } from "../observe/alerts/types.js";
import type { Expr } from "../observe/expr/ast.js";
import { evaluate, parseExpr } from "../observe/expr/index.js";
import { DeliveryQueue } from "../observe/notify/delivery-queue.js";
import type { Notifier } from "../observe/notify/notifier.js";
import { notifierFromSpec } from "../observe/notify/notifier-from-spec.js";
import type { LabelMatcher, Labels, SeriesSource } from "../observe/series.js";
import type { AlertStore, EventRecord, NewEvent } from "../store/index.js";
import { alertSignalsOf } from "./alert-signals.js";
import { diskUsage } from "./disk-usage.js";
import { ControllerError } from "./errors.js";
import { type NotifyRetry, notifyRetryFromEnv } from "./notify-retry-env.js";

export interface AlertServiceOptions {
  readonly store: AlertStore;
  readonly metrics: SeriesSource;
  readonly emit: (event: NewEvent) => EventRecord;
  readonly subscribe: (listener: (event: EventRecord) => void) => () => void;
  /** The apps as the controller sees them now: crash loops and readiness come from here. */
  readonly apps: () => readonly AppStatus[];
  readonly now?: () => number;
  /** How often due notifications are handed out (1s). */
  readonly tickMs?: number;
  /**
   * Retries of each batch; else BATON_NOTIFY_ATTEMPTS / BATON_NOTIFY_BACKOFF, else the
   * queue's defaults (8 tries from 1s, doubling).
   */
  readonly delivery?: NotifyRetry;
}

/** What `GET /api/v1/alerts` answers. */
export type AlertsView = AlertsAnswer;

export interface NewSilence {
  readonly matchers: readonly LabelMatcher[];
  /** Either a duration from now or an end time, ms. */
  readonly forMs?: number;
  readonly until?: number;
  readonly comment: string;
  readonly createdBy: string;
}

/**
 * History is kept, and alerts restored after a restart are looked for, this far back: an
 * alert firing longer than that is told again once after a restart.
 */
const RESTORE_WINDOW_MS = 30 * 24 * 60 * 60_000;
const DISK_FULL_RATIO = 0.9;

interface ExprRule {
  readonly rule: AlertRule;
  readonly expr: Expr;
}

/**
 * The alerts of one controller: evaluates the definition's expression rules over the metrics
 * store, feeds the built-in rules from events and the apps' status, hands notifications to
 * the delivery queue (never waiting on it), and records every change in the store and as
 * events. A restarted controller rebuilds its alerts from that record and tells nobody twice.
 */
export class AlertService {
  private engine: AlertEngine | undefined;
  private queue: DeliveryQueue | undefined;
  private spec: AlertingSpec | undefined;
  private exprRules: ExprRule[] = [];
  private builtIns = new Set<string>();
  /** Since when each app has looked fine (it must stay so for its resetAfter). */
  private readonly fineSince = new Map<string, number>();
  /** Each app of the definition and its restart.resetAfter. */
  private resetAfterMs = new Map<string, number>();
  private evaluationTimer: NodeJS.Timeout | undefined;
  private readonly tickTimer: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private readonly now: () => number;
  private readonly retry: NotifyRetry | undefined;

  constructor(private readonly options: AlertServiceOptions) {
    this.now = options.now ?? Date.now;
    this.retry = options.delivery ?? notifyRetryFromEnv();
    this.unsubscribe = options.subscribe((event) => this.onEvent(event));
    this.tickTimer = setInterval(() => this.tick(), options.tickMs ?? 1000);
    this.tickTimer.unref();
  }

  /** Takes the applied definition's alerting; the first call restores the stored alerts. */
  update(definition: Definition): void {
    const spec = definition.alerting ?? defaultAlerting();
    this.resetAfterMs = new Map(
      Object.values(definition.apps).map((a) => [a.name, a.restart.resetAfterMs]),
    );
    this.exprRules = spec.rules.map((r) => ({
      rule: {
        name: r.name,
        severity: r.severity,
        for: r.forMs,
        ...(r.notify === undefined ? {} : { notify: r.notify }),
        labels: r.labels,
        ...(r.summary === undefined ? {} : { summary: r.summary }),
      },
      expr: parseExpr(r.expr),
    }));
    this.builtIns = new Set(
      spec.builtIn
        ? BUILT_IN_RULES.map((r) => r.name).filter((name) => !spec.disable.includes(name))
        : [],
    );
    const rules = [
      ...BUILT_IN_RULES.filter((r) => this.builtIns.has(r.name)),
      ...this.exprRules.map((r) => r.rule),
    ];
    const now = this.now();
    // What is older than the window would not be restored anyway.
    this.options.store.prune(now - RESTORE_WINDOW_MS);
    if (this.engine === undefined || pacingChanged(this.spec, spec)) {
      this.queue?.stop();
      this.engine = this.restoredEngine(spec, rules, now);
      this.queue = this.deliveryQueue(spec, this.engine);
    } else {
      this.engine.setRules(rules, now);
      if (JSON.stringify(this.spec?.notifiers) !== JSON.stringify(spec.notifiers)) {
        // What the old queue still held is given back to the engine and goes out anew.
        this.queue?.stop();
        this.queue = this.deliveryQueue(spec, this.engine);
      }
    }
    this.spec = spec;
    if (this.evaluationTimer !== undefined) clearInterval(this.evaluationTimer);
    this.evaluationTimer = setInterval(() => this.evaluate(), spec.evaluationIntervalMs);
    this.evaluationTimer.unref();
    this.evaluate();
  }

  view(historyLimit = 50): AlertsView {
    const now = this.now();
    return {
      active: this.engine?.active(now) ?? [],
      silences: this.engine?.silences(now) ?? [],
      history: this.options.store.recent(historyLimit),
    };
  }

  addSilence(request: NewSilence): Silence {
    const now = this.now();
    const until = request.until ?? (request.forMs === undefined ? undefined : now + request.forMs);
    if (until === undefined || !Number.isFinite(until) || until <= now) {
      throw new ControllerError(
        "silence.invalid",
        "a silence needs an end in the future",
        "give `for` (e.g. 2h) or `until` (a time after now)",
      );
    }
    const silence: Silence = {
      id: randomBytes(4).toString("hex"),
      matchers: request.matchers,
      startsAt: now,
      until,
      createdBy: request.createdBy,
      comment: request.comment,
    };
    try {
      this.requireEngine().addSilence(silence);
    } catch (error) {
      throw new ControllerError(
        "silence.invalid",
        (error as Error).message,
        "e.g. alertname=crash-loop app=api",
      );
    }
    this.options.store.addSilence(silence);
    this.options.emit({
      type: "silence.added",
      message: `silence ${silence.id} (${silence.matchers.map(matcherText).join(" ")}) until ${new Date(until).toISOString()} by ${silence.createdBy}`,
      data: { id: silence.id, until },
    });
    return silence;
  }

  removeSilence(id: string, by: string): void {
    const known = this.requireEngine().removeSilence(id);
    const stored = this.options.store.removeSilence(id, this.now());
    if (!known && !stored) {
      throw new ControllerError(
        "silence.not_found",
        `no silence ${id} is in force`,
        "`baton silence ls` lists the silences in force",
      );
    }
    this.options.emit({
      type: "silence.removed",
      message: `silence ${id} removed by ${by}`,
      data: { id },
    });
  }

  /**
   * Stops evaluating and delivering; what is queued is dropped, and was never recorded as
   * told, so the next controller sends it.
   */
  stop(): void {
    this.unsubscribe();
    clearInterval(this.tickTimer);
    if (this.evaluationTimer !== undefined) clearInterval(this.evaluationTimer);
    this.queue?.stop();
  }

  private restoredEngine(spec: AlertingSpec, rules: AlertRule[], now: number): AlertEngine {
    const engine = new AlertEngine({
      defaultReceivers: spec.notify,
      timings: {
        groupWaitMs: spec.groupWaitMs,
        groupIntervalMs: spec.groupIntervalMs,
        repeatIntervalMs: spec.repeatIntervalMs,
      },
      onRecord: (record) => this.record(record),
    });
    engine.setRules(rules, now);
    engine.restore(this.options.store.since(now - RESTORE_WINDOW_MS));
    for (const silence of this.options.store.activeSilences(now)) engine.addSilence(silence);
    return engine;
  }

  /** The queue reports back to `engine`, the one whose batches it is given. */
  private deliveryQueue(spec: AlertingSpec, engine: AlertEngine): DeliveryQueue {
    const notifiers: Notifier[] = [];
    for (const [name, definition] of Object.entries(spec.notifiers)) {
      try {
        notifiers.push(notifierFromSpec(name, definition));
      } catch (error) {
        // The message names the receiver, never its URL.
        this.notifierFailed(name, (error as Error).message);
      }
    }
    return new DeliveryQueue(notifiers, {
      ...this.retry,
      onRetrying: (receiver, error, retry) =>
        this.options.emit({
          type: "notifier.retrying",
          // The error's message names the receiver and host:port only (NotifierError).
          message: `notifier ${receiver} failed (attempt ${retry.attempt} of ${retry.maxAttempts}), retrying in ${formatDuration(retry.delayMs)}: ${error.message}`,
          data: { receiver, attempt: retry.attempt, maxAttempts: retry.maxAttempts },
        }),
      onFailure: (receiver, error, attempts) =>
        this.notifierFailed(receiver, `${error.message} (after ${attempts} attempts)`),
      onDrop: (receiver, batch, reason) => {
        engine.undelivered(batch, this.now());
        if (reason.startsWith("gave up") || reason.includes("stopped")) return;
        this.notifierFailed(receiver, reason);
      },
      onDelivered: (receiver, batch) => {
        const now = this.now();
        engine.delivered(batch, now);
        if (this.builtIns.has("notifier-failing")) {
          engine.clear("notifier-failing", { receiver }, now);
        }
      },
    });
  }

  private notifierFailed(receiver: string, reason: string): void {
    this.options.emit({
      type: "notifier.failed",
      message: `notifier ${receiver} failed: ${reason}`,
      data: { receiver },
    });
  }

  private record(record: AlertRecord): void {
    this.options.store.append(record);
    if (record.kind !== "transition") return;
    if (record.to !== "firing" && record.to !== "resolved") return;
    const labels = Object.entries(record.labels)
      .filter(([k]) => k !== "alertname" && k !== "severity")
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    this.options.emit({
      type: `alert.${record.to}`,
      ...(record.labels.app === undefined ? {} : { app: record.labels.app }),
      message: `alert ${record.rule}${labels === "" ? "" : ` (${labels})`} ${record.to}`,
      data: { rule: record.rule, labels: record.labels, value: record.value },
    });
  }

  private onEvent(event: EventRecord): void {
    try {
      this.feed(event);
    } catch {
      // The emitter (a reconciler, the drift watch) must never fail because of an alert: a
      // signal that could not be taken is caught up by the next evaluation or event.
    }
  }

  private feed(event: EventRecord): void {
    const engine = this.engine;
    if (engine === undefined) return;
    const now = this.now();
    for (const signal of alertSignalsOf(event)) {
      if (!this.builtIns.has(signal.rule)) continue;
      if (signal.action === "raise") {
        engine.raise(signal.rule, signal.labels, now);
      } else if (signal.partial === true) {
        for (const alert of engine.active(now)) {
          if (alert.rule === signal.rule && includes(alert.labels, signal.labels))
            engine.clear(signal.rule, alert.labels, now);
        }
      } else {
        engine.clear(signal.rule, signal.labels, now);
      }
    }
  }

  /** One evaluation of every rule; the evaluation timer calls it (tests may, at their `now`). */
  evaluate(): void {
    const engine = this.engine;
    if (engine === undefined) return;
    const now = this.now();
    for (const { rule, expr } of this.exprRules) {
      try {
        engine.evaluate(rule, evaluate(expr, this.options.metrics, now), now);
      } catch (error) {
        this.options.emit({
          type: "alert.error",
          message: `evaluating alert ${rule.name} failed: ${(error as Error).message}`,
          data: { rule: rule.name },
        });
      }
    }
    if (this.builtIns.has("disk-full")) {
      const full = diskUsage(this.options.metrics, now)
        .filter((d) => d.ratio > DISK_FULL_RATIO)
        .map((d) => ({ labels: d.labels, value: d.ratio }));
      const rule = BUILT_IN_RULES.find((r) => r.name === "disk-full");
      if (rule !== undefined) engine.evaluate(rule, full, now);
    }
    this.watchApps(engine, now);
  }

  /**
   * crash-loop and replica-not-ready from the apps' status. A crash-looping app looks fine
   * for the moment a new replica runs, so both are cleared only once the app has stayed fine
   * for its restart.resetAfter (when its own backoff forgets the loop too).
   */
  private watchApps(engine: AlertEngine, now: number): void {
    let apps: readonly AppStatus[];
    try {
      apps = this.options.apps();
    } catch {
      return;
    }
    for (const app of apps) {
      const labels = { app: app.name };
      const crashLooping = app.state === "crash-loop";
      if (crashLooping || app.ready < app.desired) {
        this.fineSince.delete(app.name);
        if (crashLooping && this.builtIns.has("crash-loop"))
          engine.raise("crash-loop", labels, now);
        if (this.builtIns.has("replica-not-ready")) engine.raise("replica-not-ready", labels, now);
        continue;
      }
      const since = this.fineSince.get(app.name) ?? now;
      this.fineSince.set(app.name, since);
      if (now - since < (this.resetAfterMs.get(app.name) ?? 30_000)) continue;
      if (this.builtIns.has("crash-loop")) engine.clear("crash-loop", labels, now);
      if (this.builtIns.has("replica-not-ready")) engine.clear("replica-not-ready", labels, now);
    }
    // Only an app the definition dropped ends its alerts: one missing from the status may
    // just not be known yet (a controller starting).
    for (const alert of engine.active(now)) {
      const app = alert.labels.app;
      if (app === undefined || this.resetAfterMs.has(app)) continue;
      if (alert.rule === "crash-loop" || alert.rule === "replica-not-ready") {
        engine.clear(alert.rule, alert.labels, now);
      }
    }
  }

  /** Hands the notifications due to the delivery queue; the tick timer calls it every second. */
  tick(): void {
    const engine = this.engine;
    const queue = this.queue;
    if (engine === undefined || queue === undefined) return;
    for (const batch of engine.tick(this.now())) queue.enqueue(batch);
  }

  private requireEngine(): AlertEngine {
    if (this.engine === undefined) {
      throw new ControllerError("controller.starting", "the controller is starting", "try again");
    }
    return this.engine;
  }
}

function defaultAlerting(): AlertingSpec {
  return {
    rules: [],
    notifiers: {},
    notify: [],
    groupWaitMs: 30_000,
    groupIntervalMs: 5 * 60_000,
    repeatIntervalMs: 4 * 60 * 60_000,
    evaluationIntervalMs: 15_000,
    builtIn: true,
    disable: [],
  };
}

function pacingChanged(before: AlertingSpec | undefined, after: AlertingSpec): boolean {
  return (
    before === undefined ||
    before.groupWaitMs !== after.groupWaitMs ||
    before.groupIntervalMs !== after.groupIntervalMs ||
    before.repeatIntervalMs !== after.repeatIntervalMs ||
    before.notify.join(",") !== after.notify.join(",")
  );
}

function includes(labels: Labels, subset: Labels): boolean {
  return Object.entries(subset).every(([k, v]) => labels[k] === v);
}

function matcherText(m: LabelMatcher): string {
  return `${m.label}${m.op}${m.value}`;
}
