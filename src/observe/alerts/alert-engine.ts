import type { ActiveAlert } from "../../api/alerts.js";
import type { VectorElement } from "../expr/evaluate.js";
import type { Labels } from "../series.js";
import { alertLabels, fillSummary, fingerprintOf } from "./alert-labels.js";
import { GroupDispatcher } from "./group-dispatcher.js";
import { SilenceSet } from "./silences.js";
import {
  type AlertRecord,
  type AlertRule,
  type AlertSnapshot,
  type AlertState,
  BUILT_IN_RULE_NAMES,
  DEFAULT_GROUP_BY,
  DEFAULT_TIMINGS,
  type GroupTimings,
  type Notification,
  type Silence,
} from "./types.js";

export interface AlertEngineOptions {
  /** Receivers of rules without their own `notify` (the definition's `alerting.notify`). */
  readonly defaultReceivers?: readonly string[];
  readonly timings?: Partial<GroupTimings>;
  readonly groupBy?: readonly string[];
  /** Every transition and delivery, in order; must not throw (store, then return). */
  readonly onRecord?: (record: AlertRecord) => void;
}

/** An alert the engine holds: pending or firing. Inactive and resolved ones are dropped. */
export type { ActiveAlert };

interface LiveAlert {
  rule: string;
  fingerprint: string;
  labels: Labels;
  state: "pending" | "firing";
  activeSince: number;
  firingSince: number | undefined;
  value: number | null;
}

/**
 * The alert lifecycle, pure and clock-injected: every call says what time it is, nothing runs
 * by itself. `evaluate` (expression rules) and `raise`/`clear` (rules fed from events) move
 * alerts inactive → pending → firing → resolved; `tick` hands out the notifications due.
 */
export class AlertEngine {
  private readonly rules = new Map<string, AlertRule>();
  private readonly alerts = new Map<string, LiveAlert>();
  /** Rules fed by raise/clear: their pending alerts are promoted by `tick`, not by evaluation. */
  private readonly eventRules = new Set<string>(BUILT_IN_RULE_NAMES);
  private readonly silenceSet = new SilenceSet();
  private readonly dispatcher: GroupDispatcher;
  private readonly defaultReceivers: readonly string[];
  private readonly onRecord: (record: AlertRecord) => void;

  constructor(options: AlertEngineOptions = {}) {
    const timings = { ...DEFAULT_TIMINGS, ...options.timings };
    for (const [name, ms] of Object.entries(timings)) {
      if (!Number.isFinite(ms) || ms < 0) {
        throw new Error(`alerting ${name} must be a duration of 0 or more ms, got ${ms}`);
      }
    }
    this.dispatcher = new GroupDispatcher(timings, options.groupBy ?? DEFAULT_GROUP_BY);
    this.defaultReceivers = options.defaultReceivers ?? [];
    this.onRecord = options.onRecord ?? (() => {});
  }

  /**
   * The rules in force (needed by raise/clear and restore). Alerts of a rule that is gone
   * become inactive without a notification (the operator removed the rule, nothing resolved).
   */
  setRules(rules: readonly AlertRule[], now: number): void {
    this.rules.clear();
    for (const rule of rules) this.rules.set(rule.name, rule);
    for (const [fp, alert] of this.alerts) {
      if (this.rules.has(alert.rule)) continue;
      this.alerts.delete(fp);
      this.dispatcher.forget(fp);
      this.record(alert, alert.state, "inactive", now);
    }
  }

  /**
   * One evaluation of an expression rule: `vector` holds the label sets for which the
   * condition holds now; every other alert of the rule stops holding.
   */
  evaluate(rule: AlertRule, vector: readonly VectorElement[], now: number): void {
    this.rules.set(rule.name, rule);
    const seen = new Set<string>();
    for (const element of vector) {
      const labels = alertLabels(rule, element.labels);
      const fp = fingerprintOf(labels);
      if (seen.has(fp)) continue;
      seen.add(fp);
      this.holds(rule, labels, fp, element.value, now);
    }
    for (const alert of [...this.alerts.values()]) {
      if (alert.rule === rule.name && !seen.has(alert.fingerprint)) this.stops(alert, now);
    }
  }

  /** An event says the rule's condition holds for `labels` (e.g. crash-loop, app=api). */
  raise(name: string, labels: Labels, now: number, value: number | null = null): void {
    const rule = this.ruleNamed(name);
    this.eventRules.add(name);
    const full = alertLabels(rule, labels);
    this.holds(rule, full, fingerprintOf(full), value, now);
  }

  /** An event says the condition no longer holds for `labels`; unknown alerts are ignored. */
  clear(name: string, labels: Labels, now: number): void {
    const rule = this.ruleNamed(name);
    this.eventRules.add(name);
    const alert = this.alerts.get(fingerprintOf(alertLabels(rule, labels)));
    if (alert !== undefined) this.stops(alert, now);
  }

  /**
   * Promotes raised alerts whose `for` has passed, then returns the notifications due at
   * `now`; hand them to the delivery queue and report back with `delivered` or `undelivered`.
   * They count as told meanwhile, so they are not handed out twice. Call it every second or
   * so; `nextDueAt` says when something is due at the latest.
   */
  tick(now: number): Notification[] {
    for (const alert of this.alerts.values()) {
      if (alert.state !== "pending" || !this.eventRules.has(alert.rule)) continue;
      const rule = this.rules.get(alert.rule);
      if (rule !== undefined && now - alert.activeSince >= rule.for) this.fire(rule, alert, now);
    }
    return this.dispatcher.due(now, (labels, at) => this.isMuted(labels, at));
  }

  /**
   * A batch from `tick` reached its receiver at `at`: only now is it recorded as told, so a
   * controller restarted while it was still queued sends it again (at least once, never lost).
   */
  delivered(batch: Notification, at: number): void {
    for (const [status, alerts] of [
      ["firing", batch.firing],
      ["resolved", batch.resolved],
    ] as const) {
      for (const a of alerts) {
        this.onRecord({
          kind: "notified",
          rule: a.rule,
          labels: a.labels,
          receiver: batch.receiver,
          status,
          at,
        });
      }
    }
  }

  /**
   * A batch from `tick` will never reach its receiver (retries exhausted, queue full or
   * stopped): its alerts are owed again, and go out at the group interval rather than the
   * repeat interval; a resolution is told later unless the alert fired again meanwhile.
   */
  undelivered(batch: Notification, now: number): void {
    this.dispatcher.untold(batch, now);
  }

  nextDueAt(): number | undefined {
    return this.dispatcher.nextDueAt();
  }

  addSilence(silence: Silence): void {
    this.silenceSet.add(silence);
  }

  removeSilence(id: string): boolean {
    return this.silenceSet.remove(id);
  }

  silences(now: number): Silence[] {
    return this.silenceSet.active(now);
  }

  /** Pending and firing alerts, oldest first, with the silence muting each. */
  active(now: number): ActiveAlert[] {
    return [...this.alerts.values()]
      .sort((a, b) => a.activeSince - b.activeSince)
      .map((a) => ({ ...a, silencedBy: this.silenceSet.muting(a.labels, now)?.id }));
  }

  /**
   * Rebuilds the state from the records the sink stored (any order), without emitting any:
   * firing alerts stay firing, and groups remember what was delivered, so nothing is repeated
   * before the repeat interval (and what was still queued is sent again). Call `setRules`
   * first; records of unknown rules are skipped.
   */
  restore(records: Iterable<AlertRecord>): void {
    const ordered = [...records].sort((a, b) => a.at - b.at);
    for (const record of ordered) {
      const rule = this.rules.get(record.rule);
      if (rule === undefined) continue;
      const fp = fingerprintOf(record.labels);
      if (record.kind === "notified") {
        this.dispatcher.notified(record, fp);
        continue;
      }
      this.replay(rule, record.labels, fp, record.to, record.at, record.value);
    }
  }

  private replay(
    rule: AlertRule,
    labels: Labels,
    fp: string,
    to: AlertState,
    at: number,
    value: number | null,
  ): void {
    const existing = this.alerts.get(fp);
    switch (to) {
      case "pending":
        this.alerts.set(fp, {
          rule: rule.name,
          fingerprint: fp,
          labels,
          state: "pending",
          activeSince: at,
          firingSince: undefined,
          value,
        });
        return;
      case "firing": {
        const alert: LiveAlert = existing ?? {
          rule: rule.name,
          fingerprint: fp,
          labels,
          state: "firing",
          activeSince: at,
          firingSince: at,
          value,
        };
        alert.state = "firing";
        alert.firingSince = at;
        alert.value = value;
        this.alerts.set(fp, alert);
        this.dispatcher.firing(this.receiversOf(rule), this.snapshot(rule, alert), at);
        return;
      }
      case "resolved":
        if (existing !== undefined) {
          this.alerts.delete(fp);
          this.dispatcher.resolved(this.receiversOf(rule), this.snapshot(rule, existing, at));
        }
        return;
      case "inactive":
        this.alerts.delete(fp);
        return;
    }
  }

  private holds(rule: AlertRule, labels: Labels, fp: string, value: number | null, now: number) {
    const existing = this.alerts.get(fp);
    if (existing === undefined) {
      const alert: LiveAlert = {
        rule: rule.name,
        fingerprint: fp,
        labels,
        state: "pending",
        activeSince: now,
        firingSince: undefined,
        value,
      };
      this.alerts.set(fp, alert);
      if (rule.for <= 0) this.fire(rule, alert, now, "inactive");
      else this.record(alert, "inactive", "pending", now);
      return;
    }
    existing.value = value;
    if (existing.state === "pending" && now - existing.activeSince >= rule.for) {
      this.fire(rule, existing, now);
    }
  }

  private stops(alert: LiveAlert, now: number): void {
    this.alerts.delete(alert.fingerprint);
    if (alert.state === "pending") {
      this.record(alert, "pending", "inactive", now);
      return;
    }
    this.record(alert, "firing", "resolved", now);
    const rule = this.rules.get(alert.rule);
    if (rule !== undefined) {
      this.dispatcher.resolved(this.receiversOf(rule), this.snapshot(rule, alert, now));
    }
  }

  private fire(rule: AlertRule, alert: LiveAlert, now: number, from: AlertState = "pending") {
    alert.state = "firing";
    alert.firingSince = now;
    this.record(alert, from, "firing", now);
    this.dispatcher.firing(this.receiversOf(rule), this.snapshot(rule, alert), now);
  }

  private record(alert: LiveAlert, from: AlertState, to: AlertState, at: number): void {
    this.onRecord({
      kind: "transition",
      rule: alert.rule,
      labels: alert.labels,
      from,
      to,
      at,
      value: alert.value,
    });
  }

  private snapshot(rule: AlertRule, alert: LiveAlert, endsAt?: number): AlertSnapshot {
    const annotations: Record<string, string> = {};
    if (rule.summary !== undefined) {
      annotations.summary = fillSummary(rule.summary, alert.labels, alert.value);
    }
    return {
      rule: rule.name,
      fingerprint: alert.fingerprint,
      labels: alert.labels,
      annotations,
      severity: rule.severity,
      status: endsAt === undefined ? "firing" : "resolved",
      startsAt: alert.firingSince ?? alert.activeSince,
      ...(endsAt === undefined ? {} : { endsAt }),
      value: alert.value,
    };
  }

  private receiversOf(rule: AlertRule): readonly string[] {
    return rule.notify ?? this.defaultReceivers;
  }

  private isMuted(labels: Labels, now: number): boolean {
    return this.silenceSet.muting(labels, now) !== undefined;
  }

  private ruleNamed(name: string): AlertRule {
    const rule = this.rules.get(name);
    if (rule === undefined) {
      const known = [...this.rules.keys()].sort().join(", ") || "none";
      throw new Error(
        `no alert rule named "${name}" (known: ${known}); pass it to setRules before raising it`,
      );
    }
    return rule;
  }
}
