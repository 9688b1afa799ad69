/**
 * `baton status` with no controller running: what the state directory's replicas are doing
 * right now, in the same shape the controller answers. Nothing heals while no controller
 * runs, so this only reads: the replicas each runtime still finds (their identity verified),
 * the proxy's pool (a replica in it is ready: the proxy serves it), the store's records
 * (restarts) and the spec of the revision the app's last rollout left serving (desired
 * count, port, protocol).
 */
import type { AppSpec } from "../definition/index.js";
import type { Handle, ReplicaDescription } from "../runtime/driver.js";
import type { ReplicaRecord } from "../store/index.js";
import type { AppStatus, ReplicaStatus } from "./status.js";

export interface OfflineWorld {
  /** Live replicas of every driver of the state, each as its driver describes it. */
  readonly replicas: readonly { handle: Handle; described: ReplicaDescription }[];
  /** Ids of the replicas the proxy sends traffic to. */
  readonly pooled: ReadonlySet<string>;
  readonly records: readonly ReplicaRecord[];
  /** The revision an app's last finished rollout left serving. */
  servingRevision(app: string): string | undefined;
  /** The stored spec of one revision of an app. */
  spec(app: string, revision: string): AppSpec | undefined;
  scaleOverride(app: string): number | undefined;
}

export function offlineStatus(world: OfflineWorld): AppStatus[] {
  const records = new Map(world.records.map((r) => [r.id, r]));
  const byApp = new Map<string, { handle: Handle; described: ReplicaDescription }[]>();
  for (const replica of world.replicas) {
    const list = byApp.get(replica.handle.app) ?? [];
    list.push(replica);
    byApp.set(replica.handle.app, list);
  }
  // What runs: an app none of whose replicas runs is not shown (after `baton down`, nothing).
  const apps = [...byApp.keys()].sort();
  return apps.map((name) => {
    const running = (byApp.get(name) ?? []).sort((a, b) => a.handle.startedAt - b.handle.startedAt);
    const revision =
      world.servingRevision(name) ??
      running.find((r) => world.pooled.has(r.handle.id))?.handle.revision ??
      running[0]?.handle.revision ??
      "";
    const spec = world.spec(name, revision);
    const desired = world.scaleOverride(name) ?? spec?.replicas ?? running.length;
    const replicas = running.map(({ handle, described }): ReplicaStatus => {
      const ready = world.pooled.has(handle.id);
      return {
        id: handle.id,
        pid: described.pid ?? null,
        port: handle.port,
        state: ready ? "ready" : "starting",
        ready,
        revision: handle.revision,
        restarts: records.get(handle.id)?.restarts ?? 0,
        startedAt: handle.startedAt,
        runtime: handle.driver,
        ...(described.container === undefined ? {} : { container: described.container }),
        ...(described.image === undefined ? {} : { image: described.image }),
      };
    });
    const ready = replicas.filter((r) => r.ready && r.revision === revision).length;
    const converged =
      replicas.length === desired &&
      ready === desired &&
      replicas.every((r) => r.revision === revision);
    return {
      name,
      revision,
      desired,
      ready,
      port: spec?.port ?? null,
      protocol: spec?.protocol ?? "http",
      // Nothing heals while no controller runs: an app short of its replicas stays so.
      state: converged ? "converged" : "degraded",
      replicas,
    };
  });
}
