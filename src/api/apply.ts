/** `POST /api/v1/apply`: the definition in, the generation it became and the plan out. */
import type { PlanJson, PlanRequest } from "./plan.js";

export interface ApplyRequest extends PlanRequest {
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
}
