import { PlanError } from "./errors.js";
import {
  type Change,
  type DesiredResource,
  type FieldChange,
  keyString,
  type ObservedResource,
} from "./resource.js";

/** Revisions are content hashes; this many characters tell them apart for a human. */
const SHORT_REVISION = 6;

/**
 * What must change for `observed` to equal `desired`, one change per resource: in the
 * definition's order, then the deletes in observed order, so a plan reads like the file.
 */
export function diff(
  desired: readonly DesiredResource[],
  observed: readonly ObservedResource[],
): Change[] {
  const observedByKey = new Map(observed.map((o) => [keyString(o), o]));
  const desiredKeys = new Set<string>();
  const changes: Change[] = [];

  for (const d of desired) {
    const id = keyString(d);
    if (desiredKeys.has(id)) {
      throw new PlanError(
        "engine.duplicate_resource",
        `${id} is defined more than once`,
        `give each ${d.kind} a unique name`,
      );
    }
    desiredKeys.add(id);
    changes.push(compare(d, observedByKey.get(id)));
  }
  for (const o of observed) {
    if (desiredKeys.has(keyString(o))) continue;
    changes.push({
      type: "delete",
      key: { kind: o.kind, name: o.name },
      observed: o,
      reason: "no longer defined",
    });
  }
  return changes;
}

function compare(d: DesiredResource, o: ObservedResource | undefined): Change {
  const key = { kind: d.kind, name: d.name };
  if (o === undefined || o.revisions.length === 0) {
    return { type: "create", key, desired: d, ...(o && { observed: o }), reason: "new" };
  }
  const stale = o.revisions.filter((r) => r.revision !== d.revision);
  const running = o.revisions.reduce((sum, r) => sum + r.size, 0);
  const settings = settingsChanges(d.settings, o.settings);
  const changes = settings.length > 0 ? { changes: settings } : {};
  if (stale.length > 0) {
    return {
      type: "replace",
      key,
      desired: d,
      observed: o,
      reason: replaceReason(d, o, running),
      ...changes,
    };
  }
  const reconfigured = settings.map((c) => `${c.field} ${c.from ?? "none"} → ${c.to ?? "none"}`);
  if (d.size !== undefined && d.size !== running) {
    return {
      type: "scale",
      key,
      desired: d,
      observed: o,
      reason: [sizeChange(running, d.size), ...reconfigured].join(", "),
      ...changes,
    };
  }
  if (reconfigured.length > 0) {
    return {
      type: "reconfigure",
      key,
      desired: d,
      observed: o,
      reason: reconfigured.join(", "),
      ...changes,
    };
  }
  return { type: "unchanged", key, desired: d, observed: o, reason: "up to date" };
}

/**
 * `revision 1a2b3c → 4d5e6f`; several old revisions are listed; a rollout already under
 * way (some instances on the new revision) says how far it got.
 */
function replaceReason(d: DesiredResource, o: ObservedResource, running: number): string {
  const old = [
    ...new Set(o.revisions.filter((r) => r.revision !== d.revision).map((r) => r.revision)),
  ];
  const current = o.revisions.filter((r) => r.revision === d.revision);
  const from = old.map(short).join(", ");
  const base = `${old.length === 1 ? "revision" : "revisions"} ${from} → ${short(d.revision)}`;
  if (current.length > 0) {
    const updated = current.reduce((sum, r) => sum + r.size, 0);
    return `${base} (mid-rollout, ${updated} of ${running} updated)`;
  }
  if (d.size !== undefined && d.size !== running) return `${base}, ${sizeChange(running, d.size)}`;
  return base;
}

/** Each setting that differs (`port: 8080 → 8081`); none when the actual ones are unknown. */
function settingsChanges(
  desired: Readonly<Record<string, string>> | undefined,
  actual: Readonly<Record<string, string>> | undefined,
): FieldChange[] {
  if (desired === undefined || actual === undefined) return [];
  const names = [...new Set([...Object.keys(desired), ...Object.keys(actual)])].sort();
  return names
    .filter((name) => desired[name] !== actual[name])
    .map((name) => ({ field: name, from: actual[name] ?? null, to: desired[name] ?? null }));
}

function sizeChange(from: number, to: number): string {
  return `${from} → ${to} ${to === 1 ? "replica" : "replicas"}`;
}

function short(revision: string): string {
  return revision.slice(0, SHORT_REVISION);
}
