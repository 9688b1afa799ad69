import type { Labels } from "../series.js";
import { groupLabelsOf, renderLabels } from "./alert-labels.js";
import type { AlertSnapshot, GroupTimings, Notification, NotifiedRecord } from "./types.js";

interface AlertGroup {
  readonly receiver: string;
  readonly key: string;
  readonly labels: Labels;
  /** When its first alert fired; the first notification waits group_wait from here. */
  readonly createdAt: number;
  lastSentAt: number | undefined;
  /** Fingerprints that were firing in what the receiver was last told. */
  notifiedFiring: Set<string>;
  readonly members: Map<string, AlertSnapshot>;
}

/** Whether a silence mutes an alert with these labels at `now`. */
export type MuteCheck = (labels: Labels, now: number) => boolean;

/**
 * Alertmanager's route for each receiver: alerts are grouped by labels, a new group waits
 * `groupWaitMs`, a changed group is told again no sooner than `groupIntervalMs` after the last
 * notification, an unchanged one every `repeatIntervalMs`. Resolved alerts are told only to a
 * receiver that was told they fired.
 */
export class GroupDispatcher {
  private readonly groups = new Map<string, AlertGroup>();

  constructor(
    private readonly timings: GroupTimings,
    private readonly groupBy: readonly string[],
  ) {}

  firing(receivers: readonly string[], alert: AlertSnapshot, now: number): void {
    for (const receiver of receivers) {
      this.groupFor(receiver, alert.labels, now).members.set(alert.fingerprint, alert);
    }
  }

  resolved(receivers: readonly string[], alert: AlertSnapshot): void {
    for (const receiver of receivers) {
      const group = this.existingGroup(receiver, alert.labels);
      if (group?.members.has(alert.fingerprint)) group.members.set(alert.fingerprint, alert);
    }
  }

  /** Takes an alert out of every group without a word (its rule was removed). */
  forget(fingerprint: string): void {
    for (const [mapKey, group] of this.groups) {
      group.members.delete(fingerprint);
      group.notifiedFiring.delete(fingerprint);
      if (group.members.size === 0) this.groups.delete(mapKey);
    }
  }

  /** Replays a notification recorded before a restart. */
  notified(record: NotifiedRecord, fingerprint: string): void {
    const group = this.existingGroup(record.receiver, record.labels);
    if (group === undefined) return;
    group.lastSentAt = Math.max(group.lastSentAt ?? record.at, record.at);
    if (record.status === "firing") {
      group.notifiedFiring.add(fingerprint);
    } else {
      group.notifiedFiring.delete(fingerprint);
      group.members.delete(fingerprint);
      if (group.members.size === 0) this.groups.delete(this.mapKey(group.receiver, group.key));
    }
  }

  /** The notifications due at `now`; the groups remember them as sent. */
  due(now: number, muted: MuteCheck): Notification[] {
    const out: Notification[] = [];
    for (const [mapKey, group] of this.groups) {
      this.forgetUntold(group, now, muted);
      if (group.members.size === 0) {
        this.groups.delete(mapKey);
        continue;
      }
      const firing = [...group.members.values()].filter(
        (a) => a.status === "firing" && !muted(a.labels, now),
      );
      const resolved = [...group.members.values()].filter((a) => a.status === "resolved");
      if (!this.isDue(group, firing, resolved, now)) continue;
      if (firing.length === 0 && resolved.length === 0) continue;
      out.push({
        receiver: group.receiver,
        groupKey: group.key,
        groupLabels: group.labels,
        firing,
        resolved,
      });
      group.lastSentAt = now;
      group.notifiedFiring = new Set(firing.map((a) => a.fingerprint));
      for (const a of resolved) group.members.delete(a.fingerprint);
      if (group.members.size === 0) this.groups.delete(mapKey);
    }
    return out;
  }

  /**
   * The earliest time `due` may have something; a hint for scheduling (silences ending and
   * evaluations can make things due sooner, so a caller still ticks regularly).
   */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const group of this.groups.values()) {
      let at: number;
      if (group.lastSentAt === undefined) at = group.createdAt + this.timings.groupWaitMs;
      else if (this.hasNews(group)) at = group.lastSentAt + this.timings.groupIntervalMs;
      else at = group.lastSentAt + this.timings.repeatIntervalMs;
      next = next === undefined ? at : Math.min(next, at);
    }
    return next;
  }

  /** Resolved alerts the receiver never heard fire, or that a silence mutes, go unsaid. */
  private forgetUntold(group: AlertGroup, now: number, muted: MuteCheck): void {
    for (const [fp, a] of group.members) {
      if (a.status !== "resolved") continue;
      if (!group.notifiedFiring.has(fp) || muted(a.labels, now)) {
        group.members.delete(fp);
        group.notifiedFiring.delete(fp);
      }
    }
  }

  private isDue(
    group: AlertGroup,
    firing: readonly AlertSnapshot[],
    resolved: readonly AlertSnapshot[],
    now: number,
  ): boolean {
    const t = this.timings;
    if (group.lastSentAt === undefined) return now >= group.createdAt + t.groupWaitMs;
    const changed =
      resolved.length > 0 || firing.some((a) => !group.notifiedFiring.has(a.fingerprint));
    if (changed) return now >= group.lastSentAt + t.groupIntervalMs;
    return firing.length > 0 && now >= group.lastSentAt + t.repeatIntervalMs;
  }

  private hasNews(group: AlertGroup): boolean {
    for (const [fp, a] of group.members) {
      if (a.status === "resolved" || !group.notifiedFiring.has(fp)) return true;
    }
    return false;
  }

  private groupFor(receiver: string, labels: Labels, now: number): AlertGroup {
    const groupLabels = groupLabelsOf(labels, this.groupBy);
    const key = renderLabels(groupLabels);
    const mapKey = this.mapKey(receiver, key);
    let group = this.groups.get(mapKey);
    if (group === undefined) {
      group = {
        receiver,
        key,
        labels: groupLabels,
        createdAt: now,
        lastSentAt: undefined,
        notifiedFiring: new Set(),
        members: new Map(),
      };
      this.groups.set(mapKey, group);
    }
    return group;
  }

  private existingGroup(receiver: string, labels: Labels): AlertGroup | undefined {
    const key = renderLabels(groupLabelsOf(labels, this.groupBy));
    return this.groups.get(this.mapKey(receiver, key));
  }

  private mapKey(receiver: string, groupKey: string): string {
    return `${receiver}\u0000${groupKey}`;
  }
}
