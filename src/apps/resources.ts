import type { AppSpec, Definition, UpdatePolicy } from "../definition/index.js";
import { appRevision } from "../definition/index.js";
import type { DesiredResource, ObservedResource, ResourceKey } from "../engine/index.js";

export const APP_KIND = "app";

/**
 * The definition's apps as engine resources: revision = what replicas are made of, size =
 * count, dependsOn = the apps it waits for, so that a plan creates an app after them and
 * deletes it before them.
 */
export function desiredApps(
  definition: Definition,
  scaleOverride: (app: string) => number | undefined,
  effectiveRevision: (app: string, revision: string) => string = (_, revision) => revision,
): DesiredResource[] {
  return Object.values(definition.apps).map((app) => ({
    kind: APP_KIND,
    name: app.name,
    revision: effectiveRevision(app.name, appRevision(app)),
    size: scaleOverride(app.name) ?? app.replicas,
    ...dependencies(app),
    settings: appSettings(app),
    spec: app,
  }));
}

/** The apps `app` waits for, as engine keys; nothing when it waits for none. */
function dependencies(app: AppSpec): { dependsOn?: ResourceKey[] } {
  const names = app.dependsOn ?? [];
  return names.length === 0 ? {} : { dependsOn: names.map((name) => ({ kind: APP_KIND, name })) };
}

/**
 * What of an app changes in place, without replacing its replicas: the proxy's settings, the
 * rollout policy, and the apps it waits for (only when it waits for some, so that apps
 * without dependsOn compare as they always did).
 */
export function appSettings(app: AppSpec): Record<string, string> {
  return {
    port: app.port === undefined ? "none" : String(app.port),
    listen: app.listen,
    protocol: app.protocol,
    update: `${updateBudget(app.update)}, healthyDeadline ${app.update.healthyDeadlineMs}ms, drainTimeout ${app.update.drainTimeoutMs}ms`,
    ...(app.dependsOn === undefined || app.dependsOn.length === 0
      ? {}
      : { dependsOn: app.dependsOn.join(", ") }),
  };
}

/** The budgets of a rolling update; a recreate has none (it stops every old replica first). */
function updateBudget(update: UpdatePolicy): string {
  return update.strategy === "recreate"
    ? "strategy recreate"
    : `maxSurge ${update.maxSurge}, maxUnavailable ${update.maxUnavailable}`;
}

/**
 * Running replicas grouped into observed resources, one per app. `specOf` is the spec each
 * app was last given, when known: its settings are then compared, and its dependsOn orders
 * its delete before those of the apps it waited for.
 */
export function observedApps(
  replicas: readonly { app: string; revision: string }[],
  specOf: (app: string) => AppSpec | undefined = () => undefined,
): ObservedResource[] {
  const byApp = new Map<string, Map<string, number>>();
  for (const r of replicas) {
    const revisions = byApp.get(r.app) ?? new Map<string, number>();
    revisions.set(r.revision, (revisions.get(r.revision) ?? 0) + 1);
    byApp.set(r.app, revisions);
  }
  return [...byApp].map(([name, revisions]) => {
    const spec = specOf(name);
    return {
      kind: APP_KIND,
      name,
      revisions: [...revisions].map(([revision, size]) => ({ revision, size })),
      ...(spec === undefined ? {} : { settings: appSettings(spec), ...dependencies(spec) }),
    };
  });
}
