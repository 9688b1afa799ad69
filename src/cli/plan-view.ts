import type { PlanJson } from "../api/plan.js";
import type { Plan } from "../engine/index.js";
import { formatPlan } from "../engine/index.js";

/** The plan as the API sends it (see server/api-server.ts planJson). */
export type { PlanJson };

export function planFromJson(json: PlanJson): Plan {
  return {
    steps: json.steps.map((s) => ({
      id: s.id,
      after: s.after,
      change: {
        type: s.type,
        key: { kind: s.kind, name: s.name },
        reason: s.reason,
        ...(s.changes === undefined ? {} : { changes: s.changes }),
      },
    })),
  };
}

export function renderPlanJson(json: PlanJson, color: boolean): string {
  return formatPlan(planFromJson(json), { color });
}
