import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Definition } from "../definition/index.js";
import { appRevision } from "../definition/index.js";
import type { DesiredResource, ObservedResource } from "../engine/index.js";
import { DockerEngine } from "../runtime/docker/index.js";
import { type Service, SwarmClient } from "../runtime/swarm/index.js";
import { appSettings } from "./resources.js";

/** The plan's kind for apps run as Swarm services (kept apart from `app`: another reconciler). */
export const SWARM_APP_KIND = "swarm-app";

/**
 * The definition's swarm apps as engine resources: revision = the task template, size =
 * replicas. They carry no dependsOn: Swarm starts services in no order, so the definition
 * refuses dependsOn on a swarm app and naming one (definition/dependency-checks.ts).
 */
export function desiredSwarmApps(
  definition: Definition,
  scaleOverride: (app: string) => number | undefined,
  effectiveRevision: (app: string, revision: string) => string = (_, revision) => revision,
): DesiredResource[] {
  return Object.values(definition.apps)
    .filter((app) => app.runtime === "swarm")
    .map((app) => ({
      kind: SWARM_APP_KIND,
      name: app.name,
      revision: effectiveRevision(app.name, appRevision(app)),
      size: scaleOverride(app.name) ?? app.replicas,
      settings: appSettings(app),
      spec: app,
    }));
}

/** A live service as an observed resource: the revision it runs, its replica count. */
export function observedService(
  app: string,
  service: Service,
  settings?: Readonly<Record<string, string>>,
): ObservedResource {
  return {
    kind: SWARM_APP_KIND,
    name: app,
    revisions: [
      {
        revision: service.Spec.Labels["baton.revision"] ?? "",
        size: service.Spec.Mode.Replicated?.Replicas ?? 0,
      },
    ],
    ...(settings === undefined ? {} : { settings }),
  };
}

/**
 * The services of a state directory, for a plan made with no controller running; none
 * when no engine answers or it is not a swarm manager.
 */
export async function observedServices(stateDir: string): Promise<ObservedResource[]> {
  const engine = new DockerEngine();
  if (!existsSync(engine.socketPath)) return [];
  try {
    const services = await new SwarmClient(engine).services([`baton.state=${resolve(stateDir)}`]);
    return services.flatMap((service) => {
      const app = service.Spec.Labels["baton.app"];
      return app === undefined ? [] : [observedService(app, service)];
    });
  } catch {
    return [];
  }
}

/**
 * Removes the services of a state directory that a dead controller left (`baton down`
 * with no controller); returns how many. None when no engine answers or it is no manager.
 */
export async function removeServices(stateDir: string): Promise<number> {
  const engine = new DockerEngine();
  if (!existsSync(engine.socketPath)) return 0;
  const client = new SwarmClient(engine);
  let services: Service[];
  try {
    services = await client.services([`baton.state=${resolve(stateDir)}`]);
  } catch {
    return 0;
  }
  await Promise.all(services.map((service) => client.remove(service.ID)));
  return services.length;
}
