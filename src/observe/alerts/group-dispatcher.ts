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
  /** How many batches it handed out; tells whether a given-back batch is still its latest. */
  sent: number;
}

/** Which group a handed-out batch came from, and which of its batches it was. */
interface HandedOut {
  readonly group: AlertGroup;
  readonly sequence: number;
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
  /** Batches still out for delivery; weak, so one nobody reports on is simply forgotten. */
  private readonly handedOut = new WeakMap<Notification, HandedOut>();

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

  /** Replays a delivery recorded before a restart. */
  notified(record: NotifiedRecord, fingerprint: string): void {
    const group = this.existingGroup(record.receiver, record.labels);
    if (group === undefined) return;
    group.lastSentAt = Math.max(group.lastSentAt ?? record.at, record.at);
    if (record.status === "firing") {
      group.notifiedFiring.add(fingerprint);
      return;
    }
    group.notifiedFiring.delete(fingerprint);
    // A delivery is recorded when it arrived, so the alert may have fired again meanwhile:
    // that firing is news and stays.
    if (group.members.get(fingerprint)?.status === "resolved") group.members.delete(fingerprint);
    if (group.members.size === 0) this.groups.delete(this.mapKey(group.receiver, group.key));
  }

  /**
   * A batch `due` handed out never reached its receiver: its firing alerts count as untold
   * again (unless a newer batch of the group already carries them), its resolutions are owed
   * again unless the alert fired anew. The last send time stays, so a receiver that keeps
   * failing is tried once per group interval, not more often.
   */
  untold(batch: Notification, now: number): void {
    const origin = this.handedOut.get(batch);
    // Not handed out here, or already given back: nothing of it is ours to undo.
    if (origin === undefined) return;
    this.handedOut.delete(batch);
    const mapKey = this.mapKey(batch.receiver, batch.groupKey);
    let group = this.groups.get(mapKey);
    if (group !== undefined && origin.group === group && origin.sequence === group.sent) {
      for (const a of batch.firing) group.notifiedFiring.delete(a.fingerprint);
    }
    if (batch.resolved.length === 0) return;
    if (group === undefined) {
      // Its last members were resolved in this very batch; it comes back to tell them, paced
      // as if it had just sent (its own send time went with it).
      group = this.newGroup(batch.receiver, batch.groupKey, batch.groupLabels, now);
      group.lastSentAt = now;
      this.groups.set(mapKey, group);
    }
    for (const a of batch.resolved) {
      const member = group.members.get(a.fingerprint);
      if (member?.status === "firing") continue;
      group.members.set(a.fingerprint, member ?? a);
      // The receiver heard it fire, or the resolution would not have been in the batch.
      group.notifiedFiring.add(a.fingerprint);
    }
  }

  /**
   * The notifications due at `now`; the groups count them as told at once (so the next tick
   * does not send them again) until `untold` gives one back.
   */
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
      const batch: Notification = {
        receiver: group.receiver,
        groupKey: group.key,
        groupLabels: group.labels,
        firing,
        resolved,
      };
      group.sent += 1;
      this.handedOut.set(batch, { group, sequence: group.sent });
      out.push(batch);
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
      group = this.newGroup(receiver, key, groupLabels, now);
      this.groups.set(mapKey, group);
    }
    return group;
  }

  private newGroup(receiver: string, key: string, labels: Labels, now: number): AlertGroup {
    return {
      receiver,
      key,
      labels,
      createdAt: now,
      lastSentAt: undefined,
      notifiedFiring: new Set(),
      members: new Map(),
      sent: 0,
    };
  }

  private existingGroup(receiver: string, labels: Labels): AlertGroup | undefined {
    const key = renderLabels(groupLabelsOf(labels, this.groupBy));
    return this.groups.get(this.mapKey(receiver, key));
  }

  private mapKey(receiver: string, groupKey: string): string {
    return `${receiver}\u0000${groupKey}`;
  }
}
