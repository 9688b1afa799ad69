import type { AppSpec, Command, RuntimeKind, UpdatePolicy } from "../definition/index.js";

export type { RuntimeKind };

/**
 * A driver runs replicas and reports what happens to them (Nomad's task driver). It knows
 * nothing of apps' desired counts, health or rollouts: the apps reconciler decides, the
 * driver executes. What differs between drivers is either declared (`capabilities`) or kept
 * behind the driver (its part of a spec, its state in a handle): generic code never asks
 * which driver it talks to. Every driver passes test/runtime/conformance.ts.
 */
export interface Driver {
  /** The `runtime:` an app names to run on this driver. */
  readonly name: RuntimeKind;
  readonly capabilities: DriverCapabilities;
  /**
   * How one replica of `app` runs here: the driver reads its own part of the definition (a
   * container section, log limits), and chooses the environment and folder the replica gets.
   */
  specFor(app: AppSpec, replica: ReplicaIdentity, host: HostContext): Promise<ReplicaSpec>;
  /** Starts a replica; resolves once it exists (not once it is ready). */
  start(spec: ReplicaSpec): Promise<Handle>;
  /** SIGTERM to the replica, `graceMs`, then SIGKILL; resolves once nothing of it runs. */
  stop(handle: Handle, graceMs: number): Promise<void>;
  /**
   * The live replicas this driver runs (all apps, or one), found again from the driver's own
   * records after a controller restart: only those whose identity it verified. Their exits
   * are reported by `events()` from then on.
   */
  recover(app?: string): Promise<Handle[]>;
  /** What happens to every replica started or recovered, as it happens. */
  events(): AsyncIterable<DriverEvent>;
  /** Output of a replica, also after it exited (until the driver lets it go). */
  logs(replica: ReplicaRef, options: LogOptions): AsyncIterable<LogLine>;
  /**
   * Replicas of `app` whose output `logs` can still read: the running ones and, with
   * `exited`, those that ended whose output the driver keeps.
   */
  logged(app: string, options: { readonly exited: boolean }): Promise<string[]>;
  stats(handle: Handle): Promise<ReplicaStats>;
  /**
   * Runs `argv` inside the replica, as the app sees its world (an exec health check):
   * resolves to its exit code, or null when it did not end within `timeoutMs` (it is killed).
   * Present exactly when `capabilities.exec` says so; read it through `execOf`.
   */
  exec?(handle: Handle, argv: readonly string[], timeoutMs: number): Promise<number | null>;
  /** What status shows of a replica: what the driver knows of it from its handle alone. */
  describe(handle: Handle): ReplicaDescription;
  /** Releases watchers and timers; running replicas are left running. */
  close(): Promise<void>;
}

/** What a driver can do, declared: generic code asks these, never catches "unsupported". */
export interface DriverCapabilities {
  /**
   * Replicas are processes of this machine: they run from a snapshot of the app's folder
   * with the controller's environment, and `describe` gives their pid here.
   */
  readonly localProcesses: boolean;
  /** `exec` runs a command inside a replica; without it, exec probes run on this machine. */
  readonly exec: boolean;
  /** `logs` reads what a replica wrote. */
  readonly logs: boolean;
  /** `stats` measures a replica's CPU time and memory. */
  readonly stats: boolean;
  /** The driver's scheduler chooses where each replica runs (a node), not Baton. */
  readonly schedulerOwnsPlacement: boolean;
  /**
   * The driver's scheduler replaces exited replicas and rolls revisions out: Baton hands it
   * a whole app (see SchedulerDriver) instead of starting and stopping replicas one by one.
   */
  readonly schedulerOwnsRollout: boolean;
  /**
   * Replicas run images from this machine's Docker engine: a release's image (pinned by
   * digest) must be in it before they start, so the controller pulls a missing one when the
   * definition is applied — an apply whose image cannot be had changes nothing.
   */
  readonly localImages: boolean;
}

/** Who a replica is, chosen by the apps reconciler before any driver sees it. */
export interface ReplicaIdentity {
  /** Unique and stable for the replica's life, e.g. `web-1a2b3c-x7k2`. */
  readonly id: string;
  readonly app: string;
  /** The app revision (template hash) this replica runs. */
  readonly revision: string;
  /** The port of this machine where the replica is reached (its proxy backend). */
  readonly port: number;
}

/** What this machine offers a replica that runs on it, asked for only by drivers that need it. */
export interface HostContext {
  /** The environment a process replica inherits (PATH, HOME, ...) before its app's own. */
  readonly baseEnv: Readonly<Record<string, string>>;
  /** The folder the app's revision runs from, made if missing. */
  snapshot(): Promise<string>;
}

export interface ReplicaSpec extends ReplicaIdentity {
  /** Absent: a container runs its image's CMD (a process always has one). */
  readonly command?: Command;
  /** Empty: wherever the driver starts by default (an image's working directory). */
  readonly cwd: string;
  /** Full environment of the replica; PORT is already in it. */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Files of secrets on the controller's tmpfs (`source`) a container sees read-only at
   * `target`; a driver of local processes never gets these (its replicas read the folder).
   */
  readonly secretMounts?: readonly { readonly source: string; readonly target: string }[];
  /**
   * How much of its output is kept: rotated at `maxBytes`, `maxFiles` kept, output older
   * than `maxAgeMs` neither shown nor kept. Absent: the driver's defaults.
   */
  readonly logs?: {
    readonly maxBytes: number;
    readonly maxFiles: number;
    readonly maxAgeMs?: number;
  };
  /**
   * The driver's own settings of this replica (docker: its container), built by its
   * `specFor` and read by it alone: generic code passes them through untouched.
   */
  readonly options?: unknown;
}

/**
 * A replica as every part of Baton may hold it. What the driver needs to find the replica
 * again (a pid and its start time, a container id) is in `state`, which only the driver
 * reads: plain JSON, so a handle survives being stored and read back.
 */
export interface Handle {
  readonly id: string;
  readonly app: string;
  readonly revision: string;
  /** The driver that runs it: the registry dispatches on this. */
  readonly driver: RuntimeKind;
  /** Where the replica is reached: the proxy's backend, the target of its probes. */
  readonly host: string;
  readonly port: number;
  /** Wall-clock time the replica started (ms since epoch). */
  readonly startedAt: number;
  readonly state: unknown;
}

/** A replica by name only: enough to read its output, also after it exited. */
export type ReplicaRef = Pick<Handle, "id" | "app">;

/** What status shows of one replica, each field when its driver knows it. */
export interface ReplicaDescription {
  /** Its main process, as this machine's kernel numbers it. */
  readonly pid?: number;
  /** The container it runs in. */
  readonly container?: string;
  /** The image it runs, by content digest (`sha256:…` or `repository@sha256:…`). */
  readonly image?: string;
  /** The node a scheduler placed it on. */
  readonly node?: string;
}

export type DriverEvent = {
  readonly type: "exited";
  readonly id: string;
  readonly app: string;
  readonly code: number | null;
  readonly signal: string | null;
  readonly at: number;
  /** The kernel killed it for going over its memory limit (containers). */
  readonly oom?: boolean;
  /** That limit, when the driver set one. */
  readonly memoryLimitBytes?: number;
};

export interface LogLine {
  readonly stream: "stdout" | "stderr";
  readonly line: string;
  /**
   * When the line was written, ms since epoch: the engine's time (containers), the log's size
   * index (process logs read from the file, at most one sampling period late), or the time it
   * was read (process logs followed).
   */
  readonly at: number;
}

export interface LogOptions {
  /** Only lines written at or after this time (as exact as the lines' times). */
  readonly since?: number;
  /** Keep reading as the replica writes. Ends when the signal aborts. */
  readonly follow?: boolean;
  /** Last N lines only. */
  readonly tail?: number;
  readonly signal?: AbortSignal;
}

export interface ReplicaStats {
  readonly cpuSeconds: number;
  readonly rssBytes: number;
}

/** A driver's `exec`, when it declares one; undefined otherwise (then probes run here). */
export function execOf(driver: Driver): NonNullable<Driver["exec"]> | undefined {
  if (!driver.capabilities.exec) return undefined;
  const exec = driver.exec;
  if (exec === undefined) throw new Error(`bug: driver ${driver.name} declares exec but has none`);
  return exec.bind(driver);
}

/**
 * The state of a handle as the driver `name` reads it back: an object, from a handle that
 * driver made. Anything else handed to it is a bug in the caller, said as such.
 */
export function ownState(handle: Handle, name: RuntimeKind): Readonly<Record<string, unknown>> {
  const state = handle.state;
  if (handle.driver !== name || typeof state !== "object" || state === null) {
    throw new Error(
      `bug: the ${name} driver was handed ${handle.id} of the ${handle.driver} driver`,
    );
  }
  return state as Readonly<Record<string, unknown>>;
}

/*
 * What a scheduler-backed driver adds (swarm, Kubernetes, Nomad), when it declares
 * `schedulerOwnsRollout`. Such a scheduler keeps a group's replica count, replaces exits and
 * rolls revisions out by itself: Baton hands it the whole app and reads back what it did,
 * instead of starting and stopping replicas one by one (apps/scheduled-apps.ts does that,
 * for any such driver). The checklist of a new one is test/runtime/conformance.ts.
 */

/** One app as a scheduler runs it: everything it needs to place, replace and roll replicas. */
export interface AppGroup {
  readonly app: string;
  /** The revision the group should run; its replicas carry it. */
  readonly revision: string;
  /** The spec of that revision (the definition's, or a stored one Baton rolls back to). */
  readonly spec: AppSpec;
  readonly replicas: number;
  /** How the scheduler rolls a new revision out, and when it gives up on one. */
  readonly update: UpdatePolicy;
  /**
   * `update` resolved against `replicas`, as Baton's own rollouts resolve it: given here so
   * every scheduler rolls within the same budget (a recreate is no surge, all unavailable).
   */
  readonly budget: { readonly maxSurge: number; readonly maxUnavailable: number };
  /** The definition's project: the scheduler's names are scoped by it. */
  readonly project: string;
  /** Variables from secrets (decrypted, in memory only), on top of the spec's env. */
  readonly secretEnv?: Readonly<Record<string, string>>;
  /** Files from secrets (decrypted, in memory only): the spec's `files:` with their content. */
  readonly secretFiles?: readonly GroupSecretFile[];
}

/** A secret file of a group's replicas: where, with which mode, and its content. */
export interface GroupSecretFile {
  /** Absolute, as the definition writes it. */
  readonly path: string;
  /** The secret's name in the definition. */
  readonly secret: string;
  readonly content: string;
  readonly mode: number;
}

/** Where a scheduler's rollout of a group stands, in Baton's words. */
export type GroupRollout = (
  | { readonly state: "idle" }
  | { readonly state: "progressing"; readonly to: string; readonly message: string }
  /** The scheduler rolls back on its own (a new revision failed its health checks). */
  | { readonly state: "rolling-back"; readonly message: string }
  /** Done going back: the revision it gave up on is no longer the group's. */
  | { readonly state: "rolled-back"; readonly message: string }
  /**
   * Stopped half-way (going forward, or back): nothing moves until the group is deployed
   * again.
   */
  | { readonly state: "paused"; readonly of: "update" | "rollback"; readonly message: string }
  | { readonly state: "completed"; readonly revision: string; readonly message: string }
) & {
  /**
   * Tells one rollout of the scheduler from the next in the same state (when it started):
   * each transition is journalled once, however often it is observed.
   */
  readonly started?: string;
};

/** One replica of a group as the scheduler reports it. */
export interface GroupReplica {
  /** From the scheduler, never from `start`: `describe` gives its node and container. */
  readonly handle: Handle;
  /** Its health check passed and the scheduler means it to run: the proxy may send to it. */
  readonly ready: boolean;
  /** `stopping`: the scheduler is replacing it (an update, a scale down). */
  readonly state: "starting" | "ready" | "stopping";
  /** The handle's host and port reach it (a published port on a known node). */
  readonly reachable: boolean;
  /** Why it is not ready, in the scheduler's words. */
  readonly detail?: string;
}

/** A group as the scheduler reports it now. */
export interface GroupObservation {
  readonly app: string;
  /** The revision the scheduler was last given (absent: no group of that app). */
  readonly revision?: string;
  /** The replica count the scheduler keeps. */
  readonly size: number;
  /** Its replicas, ready or not, in a stable order (the scheduler's slots). */
  readonly replicas: readonly GroupReplica[];
  readonly rollout: GroupRollout;
}

/**
 * What `deploy` did. Drift is told here rather than by `observe`: only a deploy knows what
 * Baton wants of the group to compare with what the scheduler holds.
 */
export type GroupDeployment = (
  | { readonly action: "unchanged" }
  /** There was no group: made (a first deploy, or one removed behind Baton's back). */
  | { readonly action: "created"; readonly name: string }
  /**
   * The group differed in `fields` and was written over: a new revision is the scheduler's
   * rollout, `how` saying how it rolls it; the same revision is drift put back.
   */
  | {
      readonly action: "updated";
      readonly name: string;
      readonly fields: readonly string[];
      readonly how: string;
    }
) & {
  /** Extra groups of the same app (a crash between two creates) removed, by name. */
  readonly duplicates: readonly string[];
};

/**
 * A driver whose scheduler owns placement and rollout. Its replica-level methods still
 * serve logs, stats, exec and describe of the replicas it reports; `specFor`, `start` and
 * `stop` of a single replica are not how Baton drives it (they refuse, as a bug of the
 * caller), and `recover`/`events` report none: its replicas are found by `observe`.
 */
export interface SchedulerDriver extends Driver {
  readonly capabilities: DriverCapabilities & {
    readonly schedulerOwnsPlacement: true;
    readonly schedulerOwnsRollout: true;
  };
  /**
   * Makes the scheduler's group equal to `group`: created, or updated in place (a new
   * revision is then the scheduler's rollout). Resolves once the scheduler took it. A group
   * the scheduler is rolling back is left alone: what it writes back is not drift.
   */
  deploy(group: AppGroup): Promise<GroupDeployment>;
  /** Removes the app's groups and their replicas; returns their names (none is no error). */
  remove(app: string): Promise<readonly string[]>;
  /** What the scheduler runs of an app now. */
  observe(app: string): Promise<GroupObservation>;
  /** Apps whose groups this state owns, found again after a controller restart. */
  groups(): Promise<string[]>;
  /**
   * Wakes the caller when a group changes (a replica started, died or became healthy, an
   * update moved, a group changed by hand), by app: the caller observes it again, the event
   * says no more. Apps are those deployed, observed or listed by this instance. Ends when
   * `signal` aborts; a broken connection to the scheduler is retried, not an end.
   */
  changes(signal: AbortSignal): AsyncIterable<{ readonly app: string }>;
}

/** The driver is a scheduler-backed one: it declares so, and can deploy a group. */
export function isScheduler(driver: Driver): driver is SchedulerDriver {
  if (!driver.capabilities.schedulerOwnsRollout) return false;
  if (!("deploy" in driver)) {
    throw new Error(`bug: driver ${driver.name} owns rollout but cannot deploy a group`);
  }
  return true;
}
