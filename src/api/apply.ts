/** `POST /api/v1/apply`: the definition in, the generation it became and the plan out. */
import type { HostOutcome } from "./hosts.js";
import type { PlanJson, PlanRequest } from "./plan.js";

export interface ApplyRequest extends PlanRequest {
  /**
   * Configure the hosts of the controller's environment too, before any app moves: a pass
   * over them (as `POST /api/v1/hosts/apply`) runs first, then the apps' plan. `baton apply`
   * sets it when the definition has hosts.
   */
  readonly hosts?: boolean;
  /** Who applies it (`user@host`); `api` when absent. */
  readonly appliedBy?: string;
}

/** An applied definition: its number (1 for the first), its text's hash, and whether it is new. */
export interface GenerationJson {
  readonly id: number;
  readonly hash: string;
  /** false when the same definition was applied before. */
  readonly created: boolean;
}

export interface ApplyAnswer {
  readonly generation: GenerationJson;
  /** `generation` under its old name, kept for one release. */
  readonly revision: GenerationJson;
  readonly plan: PlanJson;
  /** With `hosts: true`: each host's outcome, from the pass that ran before the apps moved. */
  readonly hosts?: readonly HostOutcome[];
}
