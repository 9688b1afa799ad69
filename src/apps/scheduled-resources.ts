import type { Definition } from "../definition/index.js";
import { appRevision } from "../definition/index.js";
import type { DesiredResource, ObservedResource } from "../engine/index.js";
import type { GroupObservation, RuntimeKind } from "../runtime/driver.js";
import type { DriverRegistry } from "../runtime/registry.js";
import { APP_KIND, appSettings } from "./resources.js";

/**
 * The plan's kind for the apps a scheduler runs, named by its driver (`swarm-app`): kept
 * apart from `app`, another reconciler's, and as `baton plan --json` has always shown it.
 */
export function scheduledAppKind(driver: RuntimeKind): string {
  return `${driver}-app`;
}

/** A plan's kind of an app on `runtime:`, whichever reconciler runs it. */
export function isAppKind(kind: string, runtime: RuntimeKind): boolean {
  return kind === APP_KIND || kind === scheduledAppKind(runtime);
}

/**
 * The definition's apps of a scheduler-backed driver as engine resources: revision = the
 * template, size = replicas. They carry no dependsOn: a scheduler starts groups in no
 * order, so the definition refuses dependsOn there (definition/dependency-checks.ts).
 */
export function desiredScheduledApps(
  definition: Definition,
  driver: RuntimeKind,
  scaleOverride: (app: string) => number | undefined,
  effectiveRevision: (app: string, revision: string) => string = (_, revision) => revision,
): DesiredResource[] {
  return Object.values(definition.apps)
    .filter((app) => app.runtime === driver)
    .map((app) => ({
      kind: scheduledAppKind(driver),
      name: app.name,
      revision: effectiveRevision(app.name, appRevision(app)),
      size: scaleOverride(app.name) ?? app.replicas,
      settings: appSettings(app),
      spec: app,
    }));
}

/** A live group as an observed resource: the revision it runs, its replica count. */
export function observedGroup(
  driver: RuntimeKind,
  group: GroupObservation,
  settings?: Readonly<Record<string, string>>,
): ObservedResource {
  return {
    kind: scheduledAppKind(driver),
    name: group.app,
    revisions: [{ revision: group.revision ?? "", size: group.size }],
    ...(settings === undefined ? {} : { settings }),
  };
}

/**
 * The groups of a state directory, for a plan made with no controller running; none from a
 * scheduler that does not answer (no engine, not a manager).
 */
export async function observedGroups(drivers: DriverRegistry): Promise<ObservedResource[]> {
  const found: ObservedResource[] = [];
  for (const driver of drivers.schedulers()) {
    try {
      for (const app of await driver.groups()) {
        const group = await driver.observe(app);
        if (group.revision !== undefined) found.push(observedGroup(driver.name, group));
      }
    } catch {
      // Nothing of ours runs on a scheduler that does not answer.
    }
  }
  return found;
}

/**
 * Removes the groups of a state directory that a dead controller left (`baton down` with no
 * controller); returns how many. None from a scheduler that does not answer.
 */
export async function removeGroups(drivers: DriverRegistry): Promise<number> {
  let removed = 0;
  for (const driver of drivers.schedulers()) {
    let apps: string[];
    try {
      apps = await driver.groups();
    } catch {
      continue;
    }
    for (const app of apps) removed += (await driver.remove(app)).length;
  }
  return removed;
}

/** The definition without the apps a scheduler runs: those the replica-level reconciler runs. */
export function withoutScheduledApps(definition: Definition, drivers: DriverRegistry): Definition {
  const apps = Object.fromEntries(
    Object.entries(definition.apps).filter(([, app]) => !drivers.ownsRollout(app.runtime)),
  );
  return { ...definition, apps };
}
