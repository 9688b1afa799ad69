import type { DefinitionContent } from "../definition/index.js";

/**
 * What the rest of Baton may ask of its state store. SQLite is the embedded default;
 * PostgreSQL comes later behind the same surface.
 */

export type { EventRecord } from "../api/events.js";

/**
 * One applied definition: its generation. (An app's `revision` is something else: a hash of
 * what its replicas are made of.)
 */
export interface GenerationRecord {
  /** Monotonic id, 1 for the first applied definition: the generation number. */
  readonly id: number;
  /** sha256 of the definition text. */
  readonly hash: string;
  readonly file: string;
  readonly source: string;
  /** Who applied it: `user@host` of the CLI user. */
  readonly appliedBy: string;
  /** ms since epoch */
  readonly appliedAt: number;
  /** The environment it was applied for; null when the definition declares none. */
  readonly environment: string | null;
  /** The folders and files it was applied with, as uploaded; null when not shipped. */
  readonly content: DefinitionContent | null;
}

export interface ReplicaRecord {
  readonly id: string;
  readonly app: string;
  readonly revision: string;
  readonly runtime: string;
  readonly pid: number | null;
  readonly startTicks: number | null;
  readonly port: number;
  readonly startedAt: number;
  readonly state: ReplicaState;
  readonly restarts: number;
}

export type ReplicaState = "starting" | "running" | "ready" | "draining" | "stopping" | "exited";

export interface NewEvent {
  readonly type: string;
  readonly app?: string;
  readonly replica?: string;
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>>;
  readonly at?: number;
}

export interface EventQuery {
  readonly afterId?: number;
  readonly app?: string;
  readonly sinceMs?: number;
  readonly limit?: number;
}

/** The controller lease: which process runs the controller for this state directory. */
export interface ControllerRecord {
  readonly pid: number;
  readonly startTicks: number;
  /** `http://127.0.0.1:PORT` */
  readonly api: string;
  readonly startedAt: number;
}
