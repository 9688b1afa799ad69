import type { Definition } from "../definition/index.js";
import type { Change, DesiredResource, ObservedResource } from "../engine/index.js";

/**
 * One kind of resource kept equal to the definition. The engine plans over what
 * `desired` and `observed` say; `apply` starts moving one resource toward its change;
 * `reconcile` is the level-based pass the work queue runs whenever anything about a
 * resource may have changed (an event, a timer, a resync).
 */
export interface Reconciler {
  readonly kind: string;
  desired(definition: Definition): DesiredResource[];
  observed(): ObservedResource[];
  /** Takes the new desired state of one resource (create, replace, scale or delete). */
  apply(change: Change, definition: Definition): Promise<void>;
  reconcile(name: string): Promise<void>;
  /** Every name this reconciler currently has desired or actual state for. */
  names(): string[];
}
