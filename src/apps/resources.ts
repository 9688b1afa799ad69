import type { AppSpec, Definition, UpdatePolicy } from "../definition/index.js";
import { appRevision } from "../definition/index.js";
import type { DesiredResource, ObservedResource } from "../engine/index.js";

export const APP_KIND = "app";

/** The definition's apps as engine resources: revision = what replicas are made of, size = count. */
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
    settings: appSettings(app),
    spec: app,
  }));
}

/** What of an app changes in place, at the proxy, without replacing its replicas. */
export function appSettings(app: AppSpec): Record<string, string> {
  return {
    port: app.port === undefined ? "none" : String(app.port),
    listen: app.listen,
    protocol: app.protocol,
    update: `${updateBudget(app.update)}, healthyDeadline ${app.update.healthyDeadlineMs}ms, drainTimeout ${app.update.drainTimeoutMs}ms`,
  };
}

/** The budgets of a rolling update; a recreate has none (it stops every old replica first). */
function updateBudget(update: UpdatePolicy): string {
  return update.strategy === "recreate"
    ? "strategy recreate"
    : `maxSurge ${update.maxSurge}, maxUnavailable ${update.maxUnavailable}`;
}

/** Running replicas grouped into observed resources, one per app. */
export function observedApps(
  replicas: readonly { app: string; revision: string }[],
  settings: (app: string) => Readonly<Record<string, string>> | undefined = () => undefined,
): ObservedResource[] {
  const byApp = new Map<string, Map<string, number>>();
  for (const r of replicas) {
    const revisions = byApp.get(r.app) ?? new Map<string, number>();
    revisions.set(r.revision, (revisions.get(r.revision) ?? 0) + 1);
    byApp.set(r.app, revisions);
  }
  return [...byApp].map(([name, revisions]) => {
    const inForce = settings(name);
    return {
      kind: APP_KIND,
      name,
      revisions: [...revisions].map(([revision, size]) => ({ revision, size })),
      ...(inForce === undefined ? {} : { settings: inForce }),
    };
  });
}
