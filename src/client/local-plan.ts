import { existsSync } from "node:fs";
import type { PlanAnswer, PlanJson } from "../api/plan.js";
import { explainAppChange, storedSpecs } from "../apps/change-details.js";
import { desiredApps, observedApps } from "../apps/index.js";
import {
  desiredScheduledApps,
  observedGroups,
  withoutScheduledApps,
} from "../apps/scheduled-resources.js";
import { Snapshots } from "../apps/snapshots.js";
import type { Definition } from "../definition/index.js";
import {
  buildPlan,
  type DesiredResource,
  diff,
  type ObservedResource,
  planJson,
  withFieldChanges,
} from "../engine/index.js";
import { hostPass } from "../hosts/index.js";
import { engineImageCommands, resolveReleases, withImageCommands } from "../images/index.js";
import {
  type DriverRegistry,
  localDrivers,
  localSchedulers,
  runtimesOf,
} from "../runtime/registry.js";
import {
  digestKey,
  secretDigestKeyPath,
  unsealSecrets,
  withSecretDigests,
} from "../security/secrets/index.js";
import { SqliteStore } from "../store/index.js";

/**
 * `baton plan` with no controller: what runs is what the drivers still find, and what
 * changes inside a replaced app is told from the specs the store kept of what runs — the
 * controller's own steps (releases pinned, the images' commands read, the same diff and
 * field explanations), over the world as found instead of as its reconcilers hold it.
 */
export async function localPlan(dir: string, given: Definition): Promise<PlanAnswer> {
  const apps = await appsPlan(dir, given);
  if (Object.keys(given.hosts.hosts).length === 0) return { plan: apps };
  const store = SqliteStore.open(dir, { create: true });
  try {
    const hosts = await hostPass(given, store.hosts, {
      apply: false,
      ...(given.environment === undefined ? {} : { environment: given.environment }),
    });
    return { plan: apps, hosts };
  } finally {
    store.close();
  }
}

async function appsPlan(dir: string, given: Definition): Promise<PlanJson> {
  let definition = given;
  let overrides = new Map<string, number>();
  const store = existsSync(dir) ? openStore(dir) : undefined;
  try {
    if (store !== undefined) {
      // Built apps run their release's image: the revision to compare with is the pinned one.
      definition = resolveReleases(given, store.releases, { missing: "keep" });
      overrides = new Map(
        Object.keys(definition.apps).flatMap((app) => {
          const o = store.scaleOverride(app);
          return o !== undefined && o.baseReplicas === definition.apps[app]?.replicas
            ? [[app, o.replicas] as const]
            : [];
        }),
      );
    }
    // What the controller would record: a container app without `command` runs its image's.
    definition = await withImageCommands(definition, engineImageCommands());
    // And the digests of its secrets, when this machine holds the key the controller used.
    definition = await withLocalSecretDigests(definition, dir);
    if (!existsSync(dir)) {
      const desired = desiredAll(definition, localSchedulers(dir), () => undefined);
      return planJson(buildPlan(diff(desired, [])));
    }
    const drivers = localDrivers({ stateDir: dir, wanted: runtimesOf(definition) });
    let observed: ObservedResource[];
    try {
      observed = [...observedApps(await drivers.recoverAll()), ...(await observedGroups(drivers))];
    } finally {
      await drivers.close();
    }
    const plan = buildPlan(
      diff(
        desiredAll(definition, drivers, (app) => overrides.get(app)),
        observed,
      ),
    );
    if (store === undefined) return planJson(plan);
    const sources = {
      specOf: storedSpecs((app, revision) => store.rollouts.revision(app, revision)),
      snapshots: new Snapshots(dir),
      stateDir: dir,
    };
    const pinned = definition;
    const explained = await withFieldChanges(plan, (change) =>
      explainAppChange(change, pinned, sources),
    );
    return planJson(explained);
  } finally {
    store?.close();
  }
}

/** Every app as the controller's reconcilers would desire it: replica-level, then scheduled. */
function desiredAll(
  definition: Definition,
  drivers: DriverRegistry,
  scaleOverride: (app: string) => number | undefined,
): DesiredResource[] {
  return [
    ...desiredApps(withoutScheduledApps(definition, drivers), scaleOverride),
    ...drivers
      .schedulers()
      .flatMap((driver) => desiredScheduledApps(definition, driver.name, scaleOverride)),
  ];
}

function openStore(dir: string): SqliteStore | undefined {
  try {
    return SqliteStore.open(dir, { create: false });
  } catch {
    return undefined;
  }
}

/**
 * The definition with its apps' secret digests as the state's controller made them, read with
 * this machine's key; as it is when there is no key or no state yet (its apps then differ).
 */
async function withLocalSecretDigests(definition: Definition, dir: string): Promise<Definition> {
  if (definition.secrets === undefined || !existsSync(secretDigestKeyPath(dir))) return definition;
  try {
    const values = await unsealSecrets(definition);
    return withSecretDigests(definition, values, digestKey(dir));
  } catch {
    return definition;
  }
}
