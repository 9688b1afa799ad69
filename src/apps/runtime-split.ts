import type { Reconciler } from "../controller/reconciler.js";
import type { Definition } from "../definition/index.js";
import type { Change, DesiredResource, ObservedResource } from "../engine/index.js";

/**
 * The apps reconciler as it sees the definition: without the apps whose runtime is swarm,
 * which the swarm reconciler (swarm-apps.ts) runs as services. An app that moves between
 * the two is deleted by one and created by the other.
 */
export class WithoutSwarmApps implements Reconciler {
  readonly kind: string;

  constructor(private readonly inner: Reconciler) {
    this.kind = inner.kind;
  }

  desired(definition: Definition): DesiredResource[] {
    return this.inner.desired(withoutSwarmApps(definition));
  }

  observed(): ObservedResource[] {
    return this.inner.observed();
  }

  apply(change: Change, definition: Definition): Promise<void> {
    return this.inner.apply(change, withoutSwarmApps(definition));
  }

  reconcile(name: string): Promise<void> {
    return this.inner.reconcile(name);
  }

  names(): string[] {
    return this.inner.names();
  }
}

export function withoutSwarmApps(definition: Definition): Definition {
  const apps = Object.fromEntries(
    Object.entries(definition.apps).filter(([, app]) => app.runtime !== "swarm"),
  );
  return { ...definition, apps };
}
