/**
 * The effects that carry a pass's decision out: a replica started on its driver, watched
 * by its health checks, drained and stopped; an app removed. What comes of them reaches
 * the app's state through the next pass (AppsContext.observe), like any other event.
 */
import { randomBytes } from "node:crypto";
import type { AppSpec, Probe } from "../definition/index.js";
import { formatDuration } from "../definition/index.js";
import { execOf, type Handle } from "../runtime/driver.js";
import { type RunAs, runAsArgv, runAsOf } from "../runtime/process/index.js";
import { inheritedEnv } from "../runtime/replica-env.js";
import type { AppState, Replica, Slot } from "./app-state.js";
import { type AppsContext, driverFor, driverOf, specOf } from "./apps-context.js";
import type { ProbeTarget } from "./probe.js";
import { syncProxy } from "./proxy-route.js";
import { ReplicaHealth } from "./replica-health.js";

/**
 * Starts a replica in a slot: the effect of a pass's decision. What came of it reaches the
 * app's state through the next pass, like any other event.
 */
export async function startReplica(
  ctx: AppsContext,
  name: string,
  state: AppState,
  spec: AppSpec,
  slotIndex: number,
  slot: Slot,
): Promise<void> {
  const revision = state.revision;
  const id = `${name}-${revision.slice(0, 6)}-${randomBytes(3).toString("hex")}`;
  try {
    const port = await ctx.deps.allocatePort();
    const handle = await startIn(ctx, spec, { id, name, revision, port });
    ctx.observe(name, state, { kind: "started", slot, slotIndex, revision, spec, handle });
  } catch (error) {
    const message = (error as Error).message;
    ctx.observe(name, state, { kind: "start-failed", slot, revision, id, message });
  }
}

/**
 * Starts one replica on its app's driver, which says what the replica gets of the app's
 * definition, its environment and its folder; Baton's own variables come last.
 */
async function startIn(
  ctx: AppsContext,
  spec: AppSpec,
  replica: { id: string; name: string; revision: string; port: number },
): Promise<Handle> {
  const driver = driverFor(ctx, spec.runtime);
  const started = await driver.specFor(
    spec,
    { id: replica.id, app: replica.name, revision: replica.revision, port: replica.port },
    {
      baseEnv: ctx.deps.baseEnv,
      snapshot: () => ctx.deps.snapshots.prepare(replica.name, spec),
    },
  );
  const own = {
    BATON_APP: replica.name,
    BATON_REPLICA: replica.id,
    BATON_REVISION: replica.revision,
  };
  const secrets = ctx.deps.secretEnv?.(spec) ?? {};
  const files = ctx.deps.secretFiles?.(spec, replica.id) ?? new Map<string, string>();
  // A process reads its files from its folder; a container sees each at its own path.
  const folder: Record<string, string> =
    files.size > 0 && driver.capabilities.localProcesses
      ? { BATON_SECRETS_DIR: secretsFolder(files) }
      : {};
  const mounts =
    files.size > 0 && !driver.capabilities.localProcesses
      ? { secretMounts: [...files].map(([target, source]) => ({ source, target })) }
      : {};
  return driver.start({
    ...started,
    ...mounts,
    env: { ...started.env, ...secrets, ...folder, ...own },
  });
}

/** The replica's folder: each file's place there less its path in the definition. */
function secretsFolder(files: ReadonlyMap<string, string>): string {
  const [target, source] = [...files][0] ?? ["", ""];
  return source.slice(0, source.length - target.length);
}

/** An exec probe of a replica whose driver execs runs inside it, as its app sees it. */
function execIn(ctx: AppsContext, replica: Replica): ProbeTarget["exec"] {
  const exec = execOf(driverOf(ctx, replica.handle));
  if (exec === undefined) return undefined;
  return async (argv, timeoutMs) => {
    const code = await exec(replica.handle, argv, timeoutMs);
    if (code === 0) return "";
    return code === null
      ? `exec ${argv[0]}: no exit within ${timeoutMs}ms`
      : `exec ${argv[0]}: exited with ${code}`;
  };
}

export function watchHealth(
  ctx: AppsContext,
  name: string,
  state: AppState,
  replica: Replica,
): void {
  const spec = specOf(ctx, name, state, replica.revision) ?? state.targetSpec ?? state.spec;
  if (spec === undefined) return;
  const readiness = spec.health.readiness ?? defaultReadiness(state.spec ?? spec);
  const inside = execIn(ctx, replica);
  const identity = inside === undefined ? localIdentity(spec) : undefined;
  const exec = inside ?? identity?.exec;
  const health = new ReplicaHealth(
    readiness,
    spec.health.liveness,
    {
      host: replica.handle.host,
      port: replica.handle.port,
      cwd: ctx.deps.snapshots.dir(name, spec),
      env: {
        ...inheritedEnv(ctx.deps.baseEnv, spec.inheritEnv),
        ...(identity?.home === undefined ? {} : { HOME: identity.home }),
        ...spec.env,
        PORT: String(replica.handle.port),
      },
      ...(exec === undefined ? {} : { exec }),
      ...(identity?.asUser === undefined ? {} : { asUser: identity.asUser }),
    },
    {
      onReadiness: (ready, detail) => {
        // Told once per change: the checker repeats a failing verdict at every check.
        if (replica.heard.ready === ready && replica.heard.detail === detail) return;
        replica.heard = { ready, detail };
        ctx.observe(name, state, { kind: "readiness", replica, ready, detail });
      },
      onLivenessFailed: (detail) => {
        ctx.observe(name, state, { kind: "liveness-failed", replica, detail });
      },
    },
    replica.ready,
  );
  replica.health = health;
  health.start();
}

/**
 * Who an exec probe run on this machine runs as: the app's `user:`, like its replica. A user
 * that cannot be had (removed since the replica started) fails the probe, never runs it as
 * the controller.
 */
function localIdentity(spec: AppSpec):
  | {
      asUser?: (argv: readonly string[]) => string[];
      home?: string;
      exec?: (argv: readonly string[]) => Promise<string>;
    }
  | undefined {
  let runAs: RunAs | undefined;
  try {
    runAs = runAsOf(spec);
  } catch (error) {
    const why = (error as Error).message;
    return { exec: async ([file]) => `exec ${file}: not run: ${why}` };
  }
  if (runAs === undefined) return undefined;
  const as = runAs;
  return {
    asUser: ([file = "", ...args]) => runAsArgv(as, file, args),
    home: as.home,
  };
}

/**
 * Takes a replica out of the pool, drains it and stops it. `intent` says whether its slot
 * counts the exit as a failure (`restart`) or not (`remove`).
 */
export async function stopReplica(
  ctx: AppsContext,
  name: string,
  state: AppState,
  replica: Replica,
  intent: "restart" | "remove",
): Promise<void> {
  if (replica.state === "stopping") return;
  const inPool = state.pooled.has(replica.handle.id);
  replica.state = "stopping";
  replica.ready = false;
  replica.stopIntent = intent;
  replica.health?.stop();
  // Recorded first: a controller killed from here on finishes the stop, never re-pools it.
  ctx.deps.records.updateReplica(replica.handle.id, { state: "stopping" });
  const own = specOf(ctx, name, state, replica.revision) ?? state.spec;
  const grace = own?.stopGraceMs ?? 10_000;
  const drainMs = (state.spec ?? state.targetSpec)?.update.drainTimeoutMs ?? 10_000;
  if (inPool && state.spec?.port !== undefined) {
    await syncProxy(ctx, name, state);
    try {
      const drained = await ctx.deps.proxy.drain(name, replica.handle.id, drainMs);
      ctx.journal.step(
        state.rollout,
        "drained",
        drained.drained
          ? "no request in flight"
          : `${drained.inflight} request(s) still in flight after ${formatDuration(drainMs)}`,
        replica.handle.id,
      );
    } catch {
      // A proxy that cannot answer has no requests of ours to drain.
    }
  }
  await driverOf(ctx, replica.handle).stop(replica.handle, grace);
  ctx.deps.dropSecretFiles?.(replica.handle.id);
}

/** Stops every replica of an app and drops its route; its state goes once nothing runs. */
export async function removeApp(ctx: AppsContext, name: string, state: AppState): Promise<void> {
  state.slots.length = 0;
  const stops = [...state.replicas.values()].map((r) => stopReplica(ctx, name, state, r, "remove"));
  await Promise.all(stops);
  if (state.lastRoute !== undefined) {
    try {
      await ctx.deps.proxy.deleteRoute(name, 10_000);
    } catch {
      // The proxy may be gone already (baton down).
    }
    state.lastRoute = undefined;
    state.pooled = new Set();
  }
  if (state.replicas.size === 0 && state.spec === undefined) {
    ctx.apps.delete(name);
    ctx.deps.emit({ type: "app.deleted", app: name, message: `${name} removed` });
  }
}

/**
 * An app with a port and no readiness probe is ready once its PORT accepts connections.
 * Checked quickly until first ready, then every 5 s: cheap enough for many idle apps.
 */
function defaultReadiness(spec: AppSpec): Probe | undefined {
  if (spec.port === undefined) return undefined;
  return {
    kind: "tcp",
    intervalMs: 5_000,
    timeoutMs: 1_000,
    failureThreshold: 1,
    successThreshold: 1,
    initialDelayMs: 0,
  };
}
