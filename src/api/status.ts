/** `GET /api/v1/status` and `baton status --json`; scaling and shutting down. Scripts rely on it. */

export type ReplicaStateName = "starting" | "ready" | "unready" | "stopping" | "crash-loop";

export interface ReplicaStatus {
  readonly id: string;
  /** null for a slot waiting in crash-loop backoff: its last replica is gone. */
  readonly pid: number | null;
  readonly port: number | null;
  readonly state: ReplicaStateName;
  readonly ready: boolean;
  readonly revision: string;
  /** Restarts of this replica's slot since the app was created or last scaled up. */
  readonly restarts: number;
  readonly startedAt: number | null;
  /** Why it is not ready, or when it restarts: for humans. */
  readonly detail?: string;
  /** `process`, `docker` or `swarm` (a replica is then a Swarm task, its id the task's). */
  readonly runtime?: string;
  /** Container replicas: the container's id. */
  readonly container?: string;
  /** Container replicas: the image they run, by its content digest (`sha256:…`). */
  readonly image?: string;
  /** With `?stats=1`: CPU time used since the replica started, in seconds. */
  readonly cpuSeconds?: number;
  /** With `?stats=1`: memory in use (resident set; for containers without page cache). */
  readonly memoryBytes?: number;
  /** Swarm tasks: the id of the node the task runs on. */
  readonly node?: string;
}

export interface AppStatus {
  readonly name: string;
  /** The revision replicas should run (content hash of what they are made of). */
  readonly revision: string;
  readonly desired: number;
  /** Ready replicas of the desired revision. */
  readonly ready: number;
  readonly port: number | null;
  readonly protocol: "http" | "tcp";
  /**
   * converged | progressing (a rollout or a start under way) | waiting (a replica to start
   * waits until each app of `dependsOn` has a ready replica; `detail` names them) |
   * rolling-back | rolled-back (the definition's revision failed; the previous one serves) |
   * failed (a first deploy that is not ready; retried with backoff) | crash-loop | deleting
   */
  readonly state: string;
  /** Why the app is in its state, for humans: `waiting for db`. */
  readonly detail?: string;
  readonly replicas: readonly ReplicaStatus[];
  readonly proxyError?: string;
  /** The rollout under way, else the one that explains a rolled-back or failed state. */
  readonly rollout?: {
    readonly id: number;
    readonly state: string;
    readonly from: string | null;
    readonly to: string;
    readonly reason: string | null;
    readonly lastOutput: readonly string[];
    /** Replicas of the previous revision running when it failed (see RolloutRecord). */
    readonly oldRunning: number | null;
  };
}

export interface ControllerStatus {
  readonly controller: {
    readonly pid: number;
    readonly api: string;
    readonly startedAt: number;
    readonly stateDir: string;
    readonly definition: {
      readonly file: string;
      /** Which applied definition this is: 1 for the first one (its generation). */
      readonly generation: number;
      /** The same number under its old name, kept for one release for scripts that read it. */
      readonly revision: number;
      readonly hash: string;
      /** The environment the definition runs as; null when it declares none. */
      readonly environment: string | null;
    };
    readonly proxyPid: number | null;
  };
  readonly apps: readonly AppStatus[];
}

/**
 * `baton status --json` with or without a controller: with none running (`controller:
 * null`), the apps are what the state directory's replicas do now — nothing heals them.
 */
export interface StatusAnswer {
  readonly controller: ControllerStatus["controller"] | null;
  readonly apps: readonly AppStatus[];
}

/** `GET /api/v1/status?stats=1`: each live replica with its CPU time and memory. */
export interface StatusQuery {
  readonly stats?: boolean;
}

/** `POST /api/v1/apps/:app/scale` (`baton scale`): until the definition changes the app. */
export interface ScaleRequest {
  readonly replicas: number;
}

export interface ScaleAnswer {
  readonly app: string;
  readonly replicas: number;
}

/** `POST /api/v1/shutdown`; with `workloads`, replicas and the proxy stop too (`baton down`). */
export interface ShutdownRequest {
  readonly workloads?: boolean;
}

export interface ShutdownAnswer {
  readonly stopping: true;
  readonly workloads: boolean;
}
