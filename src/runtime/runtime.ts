import type { Command } from "../definition/model.js";

/**
 * A runtime runs replicas and reports what happens to them. It knows nothing of apps'
 * desired counts, health or rollouts: the apps reconciler decides, the runtime executes.
 * Every driver (process, docker, ...) passes the same conformance suite.
 */
export interface ReplicaSpec {
  /** Unique and stable for the replica's life, e.g. `web-1a2b3c4d-x7k2`. */
  readonly id: string;
  readonly app: string;
  /** The app revision (template hash) this replica runs. */
  readonly revision: string;
  /** Absent: a container runs its image's CMD (a process always has one). */
  readonly command?: Command;
  readonly cwd: string;
  /** Full environment of the replica; PORT is already in it. */
  readonly env: Readonly<Record<string, string>>;
  /** The port the replica listens on (its PORT). */
  readonly port: number;
  /** How a container runtime runs it; other runtimes ignore it. */
  readonly container?: ContainerSettings;
}

/**
 * A replica as a container. Secure by default: the root filesystem is read-only, every
 * capability is dropped and privileges cannot be gained, unless loosened here explicitly.
 */
export interface ContainerSettings {
  readonly image: string;
  /** Replaces the image's ENTRYPOINT; `command` (else nothing) becomes its arguments. */
  readonly entrypoint?: Command;
  /** `host:container[:ro]` bind mounts, or `volume:container` named volumes. */
  readonly binds?: readonly string[];
  /** `uid[:gid]` or a user name of the image; the image's own user when absent. */
  readonly user?: string;
  /** Default true. */
  readonly readOnlyRootfs?: boolean;
  /** Capabilities added back after all are dropped (e.g. NET_BIND_SERVICE). */
  readonly capAdd?: readonly string[];
  readonly memoryBytes?: number;
  readonly cpus?: number;
  readonly pids?: number;
  /**
   * The engine's log files of the container: rotated at `maxBytes`, `maxFiles` kept; output
   * older than `maxAgeMs` is neither shown nor kept past the container's exit.
   */
  readonly logs?: {
    readonly maxBytes: number;
    readonly maxFiles: number;
    readonly maxAgeMs?: number;
  };
}

export interface ReplicaHandle {
  readonly id: string;
  readonly app: string;
  readonly revision: string;
  readonly port: number;
  /** Process id (process runtime) of the replica's main process / group leader. */
  readonly pid: number;
  /** Start time of the process as the kernel reports it; tells a reused pid apart. */
  readonly startTicks: number;
  /** Wall-clock time the replica started (ms since epoch). */
  readonly startedAt: number;
  /** Container runtimes: the container and the image it runs (`sha256:` id). */
  readonly container?: { readonly id: string; readonly image: string };
}

export type RuntimeEvent = {
  readonly type: "exited";
  readonly id: string;
  readonly app: string;
  readonly code: number | null;
  readonly signal: string | null;
  readonly at: number;
  /** The kernel killed it for going over its memory limit (containers). */
  readonly oom?: boolean;
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

export interface Runtime {
  readonly name: string;
  /** Starts a replica; resolves once its process exists (not once it is ready). */
  start(spec: ReplicaSpec): Promise<ReplicaHandle>;
  /** SIGTERM to the replica's group, `graceMs`, then SIGKILL; resolves once it is gone. */
  stop(handle: ReplicaHandle, graceMs: number): Promise<void>;
  /**
   * The replicas this runtime runs (all apps, or one), found again from the runtime's
   * own records after a controller restart: only live ones whose identity is verified.
   */
  list(app?: string): Promise<ReplicaHandle[]>;
  /** Exit events of every replica started or listed, as they happen. */
  events(): AsyncIterable<RuntimeEvent>;
  /** Output of a replica, also after it exited (until its logs are removed). */
  logs(handle: Pick<ReplicaHandle, "id" | "app">, options: LogOptions): AsyncIterable<LogLine>;
  stats(handle: ReplicaHandle): Promise<ReplicaStats>;
  /** Releases watchers; running replicas are left running. */
  close(): Promise<void>;
}
