import type { HostOutcome } from "./hosts.js";

/** `POST /api/v1/plan` and the plan in `POST /api/v1/apply`'s answer; `baton plan --json`. */

/**
 * `reconfigure`: settings that apply in place without replacing instances changed (an
 * app's public port, say); the others as their names say.
 */
export type ChangeType = "create" | "replace" | "scale" | "reconfigure" | "delete" | "unchanged";

/**
 * One field that differs, for the plan: `env.GREETING: "hi" → "hello"`. Values are as a
 * person reads them (a string quoted, a number bare); null where the field is absent. A
 * change whose values are not shown (a secret, a file's content) has `from` equal to `to`,
 * both saying what happened: `(secret, changed)`, `modified`.
 */
export interface FieldChange {
  readonly field: string;
  readonly from: string | null;
  readonly to: string | null;
}

export interface PlanStepJson {
  /** `kind/name`, what `after` refers to. */
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  readonly type: ChangeType;
  readonly reason: string;
  /** Absent from a controller older than field-by-field plans. */
  readonly changes?: readonly FieldChange[];
  /** The steps that must be done before this one. */
  readonly after: readonly string[];
}

/** The plan as the API sends it: how many steps of each type, then each step. */
export interface PlanJson {
  readonly summary: Readonly<Record<ChangeType, number>>;
  readonly steps: readonly PlanStepJson[];
}

/**
 * The definition as the caller read it — its file's path and text, and the environment —
 * with what it names on the caller's disk by digest (uploaded first through the blob doors):
 * the controller reads nothing of the caller's disk.
 */
export interface PlanRequest {
  readonly file: string;
  readonly source: string;
  readonly environment?: string;
  /** Each folder the definition names, by absolute path → its manifest blob. */
  readonly folders: Readonly<Record<string, string>>;
  /** Each file it reads on its own (a template, a Dockerfile) → its blob. */
  readonly files: Readonly<Record<string, string>>;
  /** The definition file's path in its git working copy, when in one (pipelines' build steps). */
  readonly inRepository?: string;
}

export interface PlanAnswer {
  readonly plan: PlanJson;
  /** When the definition has hosts: what a pass over them would change (nothing is changed). */
  readonly hosts?: readonly HostOutcome[];
}
