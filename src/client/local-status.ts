import { existsSync } from "node:fs";
import { join } from "node:path";
import type { StatusAnswer } from "../api/status.js";
import { offlineStatus } from "../apps/offline-status.js";
import { ProxyClient } from "../apps/proxy/index.js";
import type { AppSpec } from "../definition/index.js";
import { localDrivers } from "../runtime/registry.js";
import { SqliteStore } from "../store/index.js";

/**
 * `baton status` with no controller: the replicas the drivers still find, ready when the
 * proxy (which outlives the controller) serves them, with what the store recorded of them.
 */
export async function localStatus(dir: string): Promise<StatusAnswer> {
  if (!existsSync(join(dir, "state.db"))) return { controller: null, apps: [] };
  const drivers = localDrivers({ stateDir: dir });
  const replicas = (await drivers.recoverAll()).map((handle) => ({
    handle,
    described: drivers.of(handle).describe(handle),
  }));
  await drivers.close();
  const pooled = new Set<string>();
  const proxy = await ProxyClient.connect(dir);
  if (proxy !== undefined) {
    const table = await proxy.routes();
    for (const route of table.routes) for (const backend of route.backends) pooled.add(backend.id);
  }
  const store = SqliteStore.open(dir, { create: false });
  try {
    const apps = offlineStatus({
      replicas,
      pooled,
      records: store.replicas(),
      servingRevision: (app) => store.rollouts.servingRevision(app),
      spec: (app, revision) => {
        const stored = store.rollouts.revision(app, revision);
        return stored === undefined ? undefined : (JSON.parse(stored.spec) as AppSpec);
      },
      scaleOverride: (app) => store.scaleOverride(app)?.replicas,
    });
    return { controller: null, apps };
  } finally {
    store.close();
  }
}
