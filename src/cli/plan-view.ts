import type { ChangeType, Plan } from "../engine/index.js";
import { formatPlan } from "../engine/index.js";

/** The plan as the API sends it (see server/api-server.ts planJson). */
export interface PlanJson {
  readonly summary: Record<ChangeType, number>;
  readonly steps: readonly {
    readonly id: string;
    readonly kind: string;
    readonly name: string;
    readonly type: ChangeType;
    readonly reason: string;
    readonly after: readonly string[];
  }[];
}

export function planFromJson(json: PlanJson): Plan {
  return {
    steps: json.steps.map((s) => ({
      id: s.id,
      after: s.after,
      change: { type: s.type, key: { kind: s.kind, name: s.name }, reason: s.reason },
    })),
  };
}

export function renderPlanJson(json: PlanJson, color: boolean): string {
  return formatPlan(planFromJson(json), { color });
}
