import type { Reconciler } from "../controller/reconciler.js";
import type { Definition } from "../definition/index.js";
import type { Change, DesiredResource, ObservedResource } from "../engine/index.js";
import type { DriverRegistry } from "../runtime/registry.js";
import { withoutScheduledApps } from "./scheduled-resources.js";

/**
 * The replica-level apps reconciler as it sees the definition: without the apps whose
 * driver's scheduler owns their rollout (scheduled-apps.ts runs those). An app that moves
 * between the two is deleted by one and created by the other.
 */
export class WithoutScheduledApps implements Reconciler {
  readonly kind: string;

  constructor(
    private readonly inner: Reconciler,
    private readonly drivers: DriverRegistry,
  ) {
    this.kind = inner.kind;
  }

  desired(definition: Definition): DesiredResource[] {
    return this.inner.desired(withoutScheduledApps(definition, this.drivers));
  }

  observed(): ObservedResource[] {
    return this.inner.observed();
  }

  apply(change: Change, definition: Definition): Promise<void> {
    return this.inner.apply(change, withoutScheduledApps(definition, this.drivers));
  }

  reconcile(name: string): Promise<void> {
    return this.inner.reconcile(name);
  }

  names(): string[] {
    return this.inner.names();
  }
}
