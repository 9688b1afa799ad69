import type { ChangeType, FieldChange, Plan } from "../engine/index.js";
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
    /** Absent from a controller older than field-by-field plans. */
    readonly changes?: readonly FieldChange[];
    readonly after: readonly string[];
  }[];
}

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
