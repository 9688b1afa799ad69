import { PlanError } from "./errors.js";
import { findCycle } from "./graph.js";
import { type Change, type ChangeType, type FieldChange, keyString } from "./resource.js";

export interface PlanStep {
  /** keyString of the resource: one step per resource. */
  readonly id: string;
  readonly change: Change;
  /** Steps that must be done before this one starts. */
  readonly after: readonly string[];
}

export interface Plan {
  /** In the order of the changes it was built from; `after` carries the ordering. */
  readonly steps: readonly PlanStep[];
}

/**
 * Orders changes by their dependencies. A resource is created, replaced or scaled after
 * the resources it depends on have been; it is deleted before the resources it depended
 * on are, so nothing is left running on top of something already gone. Unchanged
 * resources stay in the plan, for printing, with nothing to wait for.
 */
export function buildPlan(changes: readonly Change[]): Plan {
  const byId = new Map<string, Change>();
  for (const change of changes) {
    const id = keyString(change.key);
    if (byId.has(id)) {
      throw new PlanError(
        "engine.duplicate_resource",
        `${id} appears twice in the changes`,
        `give each ${change.key.kind} a unique name`,
      );
    }
    byId.set(id, change);
  }

  const dependsOn = declaredDependencies(changes, byId);
  const ids = [...byId.keys()];
  const cycle = findCycle(ids, (id) => dependsOn.get(id) ?? []);
  if (cycle) {
    throw new PlanError(
      "engine.cycle",
      `dependency cycle: ${cycle.join(" → ")}`,
      "nothing can depend on itself, directly or through others: remove one of these dependencies",
    );
  }

  // Deletes run in reverse: whoever depended on a deleted resource is deleted first.
  const dependents = new Map<string, string[]>();
  for (const [id, deps] of dependsOn) {
    if (byId.get(id)?.type !== "delete") continue;
    for (const dep of deps) dependents.set(dep, [...(dependents.get(dep) ?? []), id]);
  }

  const steps = changes.map((change): PlanStep => {
    const id = keyString(change.key);
    switch (change.type) {
      case "unchanged":
        return { id, change, after: [] };
      case "delete":
        return { id, change, after: dependents.get(id) ?? [] };
      default:
        // Waiting on an unchanged dependency would wait on nothing: it already exists.
        return {
          id,
          change,
          after: (dependsOn.get(id) ?? []).filter((dep) => byId.get(dep)?.type !== "unchanged"),
        };
    }
  });
  return { steps };
}

/**
 * The plan with what changed inside each replaced resource in front of its settings, as
 * `explain` finds it: only the kind's reconciler knows what a spec is made of and what runs.
 */
export async function withFieldChanges(
  plan: Plan,
  explain: (change: Change) => Promise<readonly FieldChange[]>,
): Promise<Plan> {
  const steps = await Promise.all(
    plan.steps.map(async (step): Promise<PlanStep> => {
      if (step.change.type !== "replace") return step;
      const inside = await explain(step.change);
      if (inside.length === 0) return step;
      const changes = [...inside, ...(step.change.changes ?? [])];
      return { ...step, change: { ...step.change, changes } };
    }),
  );
  return { steps };
}

/** Counts of steps by change type, every type present (0 when none). */
export function planSummary(plan: Plan): Record<ChangeType, number> {
  const summary: Record<ChangeType, number> = {
    create: 0,
    replace: 0,
    scale: 0,
    reconfigure: 0,
    delete: 0,
    unchanged: 0,
  };
  for (const step of plan.steps) summary[step.change.type] += 1;
  return summary;
}

/** Whether applying the plan would change anything. */
export function hasWork(plan: Plan): boolean {
  return plan.steps.some((step) => step.change.type !== "unchanged");
}

/**
 * Every dependency edge (x → y: x depends on y), unchanged resources included so that a
 * cycle through one is still reported. A desired resource must depend on desired ones
 * only; a deleted one's recorded dependencies matter only between deletes, since what it
 * depended on and is still desired stays, and what is gone already needs no ordering.
 */
function declaredDependencies(
  changes: readonly Change[],
  byId: ReadonlyMap<string, Change>,
): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  const missing: [string, string][] = [];
  for (const change of changes) {
    const id = keyString(change.key);
    if (change.type === "delete") {
      const deps = (change.observed?.dependsOn ?? []).map(keyString);
      edges.set(id, unique(deps.filter((dep) => byId.get(dep)?.type === "delete")));
      continue;
    }
    const deps = unique((change.desired?.dependsOn ?? []).map(keyString));
    for (const dep of deps) {
      const target = byId.get(dep);
      if (target === undefined || target.type === "delete") missing.push([id, dep]);
    }
    edges.set(id, deps);
  }
  if (missing.length > 0) {
    const [first] = missing;
    throw new PlanError(
      "engine.missing_dependency",
      missing.map(([id, dep]) => `${id} depends on ${dep}, which is not defined`).join("\n"),
      missing.length === 1 && first
        ? `define ${first[1]}, or remove it from the dependencies of ${first[0]}`
        : "define each missing resource, or remove it from the dependencies",
    );
  }
  return edges;
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}
