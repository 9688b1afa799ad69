import type { PlanJson } from "../api/plan.js";
import { type Plan, planSummary } from "./plan.js";

/** The plan as the API sends it and `baton plan --json` prints it. */
export function planJson(plan: Plan): PlanJson {
  return {
    summary: planSummary(plan),
    steps: plan.steps.map((s) => ({
      id: s.id,
      kind: s.change.key.kind,
      name: s.change.key.name,
      type: s.change.type,
      reason: s.change.reason,
      changes: s.change.changes ?? [],
      after: s.after,
    })),
  };
}
