/**
 * The proxy's route of an app: its ready replicas, sent one update after the other so
 * that each carries the latest pool, and only when the pool changed.
 */
import type { AppState } from "./app-state.js";
import type { AppsContext, ProxyRoute } from "./apps-context.js";

/** Queues a route update behind those under way: each sends the pool as it is in its turn. */
export function syncProxy(ctx: AppsContext, name: string, state: AppState): Promise<void> {
  state.proxyChain = state.proxyChain.then(() => sendRoute(ctx, name, state));
  return state.proxyChain;
}

async function sendRoute(ctx: AppsContext, name: string, state: AppState): Promise<void> {
  const spec = state.spec;
  if (spec?.port === undefined) return;
  const backends = [...state.replicas.values()]
    .filter((r) => r.ready && r.state !== "stopping")
    .map((r) => ({ id: r.handle.id, host: r.handle.host, port: r.handle.port }))
    .sort((a, b) => a.id.localeCompare(b.id));
  // Until an adopted replica's health is known, trust what the proxy serves already.
  if (state.adopting && backends.length === 0) return;
  const route: ProxyRoute = {
    port: spec.port,
    host: spec.listen,
    protocol: spec.protocol,
    backends,
  };
  const key = JSON.stringify(route);
  if (key === state.lastRoute) return;
  try {
    await ctx.deps.proxy.setRoute(name, route);
    state.lastRoute = key;
    const pool = new Set(backends.map((b) => b.id));
    for (const id of pool) {
      if (!state.pooled.has(id)) ctx.journal.step(state.rollout, "pooled", "", id);
    }
    for (const id of state.pooled) {
      if (!pool.has(id)) ctx.journal.step(state.rollout, "unpooled", "", id);
    }
    state.pooled = pool;
    if (state.proxyError !== undefined) {
      state.proxyError = undefined;
      ctx.deps.emit({
        type: "proxy.ok",
        app: name,
        message: `${name}: proxy serves port ${spec.port}`,
      });
    }
  } catch (error) {
    const message = (error as Error).message;
    if (state.proxyError !== message) {
      state.proxyError = message;
      ctx.deps.emit({ type: "proxy.error", app: name, message: `${name}: ${message}` });
    }
    ctx.deps.requeue(name, 2_000);
  }
}
