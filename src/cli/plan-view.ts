import type { ChangeType, FieldChange, PlanJson } from "../api/plan.js";

export type { PlanJson };

const SYMBOL: Record<ChangeType, string> = {
  create: "+",
  scale: "~",
  reconfigure: "*",
  replace: "±",
  delete: "-",
  unchanged: " ",
};

// Green adds, yellow changes in place, red removes; what stays is left plain.
const COLOR: Record<ChangeType, string | undefined> = {
  create: "\u001b[32m",
  scale: "\u001b[33m",
  reconfigure: "\u001b[33m",
  replace: "\u001b[33m",
  delete: "\u001b[31m",
  unchanged: undefined,
};
const RESET_COLOR = "\u001b[39m";

/**
 * The plan as a person reads it before saying yes: one aligned line per resource, what
 * changed inside a replaced one field by field below it, then a one-line summary. No
 * trailing newline, so callers print it as they print any line.
 *
 *       + create     app/web     new
 *       ~ scale      app/api     3 → 5 replicas
 *       ± replace    app/worker  revision c673c5 → 4fe062
 *           env.GREETING: "hi" → "hello"
 *
 *     Plan: 1 to create, 1 to replace, 1 to scale, 0 to delete, 0 unchanged.
 */
export function renderPlan(plan: PlanJson, options: { color: boolean }): string {
  const verbWidth = Math.max(0, ...plan.steps.map((s) => s.type.length));
  const idWidth = Math.max(0, ...plan.steps.map((s) => s.id.length));
  const lines = plan.steps.flatMap((step) => {
    const type = step.type;
    const label = `${SYMBOL[type]} ${type}`;
    const color = options.color ? COLOR[type] : undefined;
    // Padding stays outside the colour codes so they do not count towards the width.
    const painted = color ? `${color}${label}${RESET_COLOR}` : label;
    const padding = " ".repeat(verbWidth - type.length);
    // A scale's or reconfigure's reason already names each setting it changes.
    const fields = type === "replace" ? (step.changes ?? []) : [];
    return [
      `  ${painted}${padding}  ${step.id.padEnd(idWidth)}  ${step.reason}`,
      ...fields.map((change) => `      ${fieldLine(change)}`),
    ];
  });
  return [...lines, ...(lines.length > 0 ? [""] : []), summaryLine(plan)].join("\n");
}

/** `field: from → to` as host plans print it; a change whose values are not shown, once. */
function fieldLine(change: FieldChange): string {
  if (change.from !== null && change.from === change.to) return `${change.field}: ${change.from}`;
  return `${change.field}: ${change.from ?? "(none)"} → ${change.to ?? "(none)"}`;
}

function summaryLine(plan: PlanJson): string {
  const n = plan.summary;
  if (n.create + n.replace + n.scale + n.reconfigure + n.delete === 0) {
    return "No changes. Everything is up to date.";
  }
  const reconfigure = n.reconfigure > 0 ? `${n.reconfigure} to reconfigure, ` : "";
  return (
    `Plan: ${n.create} to create, ${n.replace} to replace, ${n.scale} to scale, ` +
    `${reconfigure}${n.delete} to delete, ${n.unchanged} unchanged.`
  );
}
