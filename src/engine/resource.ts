import type { ChangeType, FieldChange } from "../api/plan.js";

/**
 * The engine's whole vocabulary. A resource is a kind, a name and a desired spec summarised
 * by a revision (a content hash of what its instances are made of) and, for resources that
 * have instances, a size. The engine never looks inside a spec: reconcilers do.
 */
export interface ResourceKey {
  readonly kind: string;
  readonly name: string;
}

export interface DesiredResource extends ResourceKey {
  /** Hash of everything that, when changed, requires replacing the running instances. */
  readonly revision: string;
  /** How many instances; absent for resources that have no count (a file, a host). */
  readonly size?: number;
  /** Resources that must exist before this one is created (and outlive it on delete). */
  readonly dependsOn?: readonly ResourceKey[];
  /**
   * Settings applied in place, without replacing instances (e.g. `port: "8080"`): a change
   * of one alone is a `reconfigure`.
   */
  readonly settings?: Readonly<Record<string, string>>;
  /** Kind-specific desired spec, handed untouched to the kind's reconciler. */
  readonly spec: unknown;
}

export interface ObservedResource extends ResourceKey {
  /** Revisions running now, with how many instances each; one entry once converged. */
  readonly revisions: readonly { readonly revision: string; readonly size: number }[];
  /** The in-place settings in force, when known; unknown settings are not compared. */
  readonly settings?: Readonly<Record<string, string>>;
  /**
   * What it depended on when it was last applied. Only read for resources no longer
   * desired: their deletes are ordered by it (dependents go first).
   */
  readonly dependsOn?: readonly ResourceKey[];
}

/** The plan's vocabulary is what `baton plan --json` and the API show: the API's. */
export type { ChangeType, FieldChange };

export interface Change {
  readonly type: ChangeType;
  readonly key: ResourceKey;
  readonly desired?: DesiredResource;
  readonly observed?: ObservedResource;
  /** Human summary of why, e.g. "3 → 5 replicas" or "revision a1b2c3 → d4e5f6". */
  readonly reason: string;
  /**
   * What differs, field by field: the in-place settings, and for a replace what the kind's
   * reconciler found inside the spec (`withFieldChanges`). Absent: nothing to say.
   */
  readonly changes?: readonly FieldChange[];
}

export function keyString(key: ResourceKey): string {
  return `${key.kind}/${key.name}`;
}
