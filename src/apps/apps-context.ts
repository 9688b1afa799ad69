/**
 * What the parts of the apps reconciler share: the ports to the world it is given, the
 * apps' state, and the lookups every part makes through them (a revision's spec, a
 * replica's driver, its last output).
 */
import type { AppSpec } from "../definition/index.js";
import type { Driver, GroupSecretFile, Handle, RuntimeKind } from "../runtime/driver.js";
import type { DriverRegistry } from "../runtime/registry.js";
import type { NewEvent, ReplicaRecord } from "../store/index.js";
import type { AppState, Observation, PassPoint } from "./app-state.js";
import type { RolloutJournal, RolloutStorePort } from "./rollout-journal.js";

/** What the apps reconciler needs of the world, each behind a narrow port. */
export interface AppsDeps {
  /**
   * The drivers replicas run on, by the `runtime:` their app names: asking for one that is
   * not here (no Docker engine answers) throws why.
   */
  readonly drivers: Pick<DriverRegistry, "get">;
  readonly proxy: ProxyPort;
  readonly rollouts: RolloutStorePort;
  /**
   * The folder a revision's replicas run from: an immutable snapshot of the app's cwd,
   * content-addressed. `dir` names it; `prepare` makes it if missing and returns it.
   */
  readonly snapshots: {
    dir(app: string, spec: AppSpec): string;
    prepare(app: string, spec: AppSpec): Promise<string>;
    prune(app: string, keep: ReadonlySet<string>): Promise<void>;
  };
  readonly records: {
    putReplica(record: ReplicaRecord): void;
    updateReplica(id: string, patch: Partial<Pick<ReplicaRecord, "state" | "restarts">>): void;
    removeReplica(id: string): void;
    replicas(app?: string): ReplicaRecord[];
  };
  readonly scaleOverride: (app: string) => number | undefined;
  readonly emit: (event: NewEvent) => void;
  /** Asks the work queue for another pass over an app, now or later. */
  readonly requeue: (app: string, afterMs?: number) => void;
  readonly allocatePort: () => Promise<number>;
  /** Environment every replica inherits (PATH, HOME, ...) before the app's own env. */
  readonly baseEnv: Readonly<Record<string, string>>;
  /** The variables a replica of `spec` gets from secrets (decrypted, in memory only). */
  readonly secretEnv?: (spec: AppSpec) => Readonly<Record<string, string>>;
  /**
   * Writes the secret files (`files:`) of a replica of `spec` to its private tmpfs folder:
   * each file's place there, by its path in the definition. Empty when it has none.
   */
  readonly secretFiles?: (spec: AppSpec, replica: string) => ReadonlyMap<string, string>;
  /** Drops a stopped replica's secret files. */
  readonly dropSecretFiles?: (replica: string) => void;
  /** The secret files of a scheduler's group of `spec`, with their content (never on disk). */
  readonly groupSecretFiles?: (spec: AppSpec) => readonly GroupSecretFile[];
  readonly now?: () => number;
  /**
   * Tests only: called at each point of a pass; a throw there fails the pass at that point,
   * a promise holds the pass there until it settles.
   */
  readonly passPoint?: (point: PassPoint, app: string) => void | Promise<void>;
}

export interface ProxyRoute {
  readonly port: number;
  readonly host: string;
  readonly protocol: "http" | "tcp";
  readonly backends: readonly {
    readonly id: string;
    readonly host: string;
    readonly port: number;
  }[];
}

export interface ProxyPort {
  setRoute(app: string, route: ProxyRoute): Promise<void>;
  deleteRoute(app: string, timeoutMs: number): Promise<void>;
  drain(
    app: string,
    id: string,
    timeoutMs: number,
  ): Promise<{ drained: boolean; inflight: number }>;
}

/** The apps reconciler as its parts see it: one per reconciler, shared by every pass. */
export interface AppsContext {
  readonly deps: AppsDeps;
  readonly journal: RolloutJournal;
  readonly now: () => number;
  readonly apps: Map<string, AppState>;
  /** Records what happened and asks for a pass over the app, which applies it. */
  readonly observe: (name: string, state: AppState, observation: Observation) => void;
}

/** The spec of one revision of the app: the definition's, else the one the store kept. */
export function specOf(
  ctx: AppsContext,
  name: string,
  state: AppState,
  revision: string,
): AppSpec | undefined {
  const known = state.specs.get(revision);
  if (known !== undefined) return known;
  const stored = ctx.deps.rollouts.revision(name, revision);
  if (stored === undefined) return undefined;
  const spec = JSON.parse(stored.spec) as AppSpec;
  state.specs.set(revision, spec);
  return spec;
}

/** The driver of a runtime; throws why when none answers (no Docker engine). */
export function driverFor(ctx: AppsContext, kind: RuntimeKind): Driver {
  return ctx.deps.drivers.get(kind);
}

/** The driver a replica runs on. */
export function driverOf(ctx: AppsContext, handle: Handle): Driver {
  return driverFor(ctx, handle.driver);
}

/** The last lines a replica wrote: why it died, most of the time. */
export async function lastOutput(
  ctx: AppsContext,
  app: string,
  id: string,
  runtime: RuntimeKind,
): Promise<string[]> {
  const lines: string[] = [];
  try {
    for await (const line of driverFor(ctx, runtime).logs({ id, app }, { tail: 5 }))
      lines.push(line.line);
  } catch {
    // no log: nothing to add
  }
  return lines;
}
