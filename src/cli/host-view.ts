/**
 * How a pass over the hosts reads: per host what changed (or would), field by field, with
 * the content diff of files (masked for secrets by the modules), what was removed, and a
 * summary line per host; `--json` gives the same per host as changed / unchanged / removed /
 * failed lists.
 */
import type { HostOutcome, HostOutcomeJson, ResourceOutcome } from "../api/hosts.js";
import { paint } from "./output.js";

const MARK: Record<ResourceOutcome["status"], string> = {
  changed: "~",
  removed: "-",
  failed: "!",
  skipped: "·",
  unchanged: "=",
};

export function renderHostOutcomes(
  outcomes: readonly HostOutcome[],
  options: { color: boolean; apply: boolean; drift?: boolean },
): string {
  const { color, apply } = options;
  const drift = options.drift === true;
  const lines: string[] = [];
  for (const o of outcomes) {
    const count = (status: ResourceOutcome["status"]): number =>
      o.resources.filter((r) => r.status === status).length;
    if (o.error !== undefined && o.resources.length === 0) {
      lines.push(
        `${paint(o.host, "bold", color)}: ${paint(`error[${o.error.code}]`, "red", color)} ${o.error.message}`,
      );
      if (o.error.hint) lines.push(`  hint: ${o.error.hint}`);
      continue;
    }
    for (const r of o.resources) {
      if (r.status === "unchanged") continue;
      const style =
        r.status === "failed"
          ? "red"
          : r.status === "removed"
            ? "yellow"
            : r.status === "skipped"
              ? "gray"
              : "green";
      const verb = apply
        ? r.status
        : r.status === "changed"
          ? drift
            ? "drifted"
            : "would change"
          : r.status === "removed"
            ? drift
              ? "no longer declared, still there"
              : "would remove"
            : r.status;
      lines.push(
        `${paint(`${MARK[r.status]} ${o.host}`, style, color)} ${r.module} ${r.id}  ${paint(`(${r.origin}) ${verb}`, "gray", color)}`,
      );
      for (const c of r.changes) {
        if (c.diff !== undefined) {
          lines.push(`    ${c.field}:`);
          for (const line of c.diff.replace(/\n$/, "").split("\n"))
            lines.push(`      ${diffLine(line, color)}`);
        } else {
          lines.push(`    ${c.field}: ${c.from ?? "(none)"} → ${c.to ?? "(none)"}`);
        }
      }
      if (r.error !== undefined)
        lines.push(`    ${paint(r.error.trimEnd().split("\n").join("\n    "), "red", color)}`);
    }
    const parts = [
      `${count("changed")} ${apply ? "changed" : drift ? "drifted" : "to change"}`,
      `${count("unchanged")} ${drift ? "as defined" : "unchanged"}`,
      ...(count("removed") > 0
        ? [`${count("removed")} ${apply ? "removed" : drift ? "left over" : "to remove"}`]
        : []),
      ...(count("failed") > 0 ? [paint(`${count("failed")} failed`, "red", color)] : []),
      ...(count("skipped") > 0 ? [`${count("skipped")} skipped`] : []),
      ...(o.handlers.length > 0 && !drift
        ? [`handlers ${apply ? "run" : "to run"}: ${o.handlers.join(", ")}`]
        : []),
    ];
    for (const line of o.unmet)
      lines.push(`${paint(`! ${o.host}`, "red", color)} requirement: ${o.host} ${line}`);
    lines.push(
      `${paint(o.host, "bold", color)}: ${parts.join(", ")} (${o.roundTrips} round trip${o.roundTrips === 1 ? "" : "s"}, ${formatMs(o.ms)})`,
    );
    if (o.error !== undefined)
      lines.push(`  ${paint(`error[${o.error.code}]`, "red", color)} ${o.error.message}`);
  }
  return lines.join("\n");
}

export function hostOutcomesJson(outcomes: readonly HostOutcome[]): HostOutcomeJson[] {
  return outcomes.map((o): HostOutcomeJson => {
    const of = (status: ResourceOutcome["status"]) =>
      o.resources
        .filter((r) => r.status === status)
        .map((r) => ({
          module: r.module,
          id: r.id,
          origin: r.origin,
          changes: r.changes,
          ...(r.error === undefined ? {} : { error: r.error }),
        }));
    return {
      host: o.host,
      ok: o.ok,
      ...(o.error === undefined ? {} : { error: o.error }),
      changed: of("changed"),
      unchanged: of("unchanged").map((r) => ({ module: r.module, id: r.id })),
      removed: of("removed"),
      failed: of("failed"),
      skipped: of("skipped").map((r) => ({ module: r.module, id: r.id })),
      handlers: o.handlers,
      unmet: o.unmet,
      roundTrips: o.roundTrips,
      ms: Math.round(o.ms),
    };
  });
}

function diffLine(line: string, color: boolean): string {
  if (line.startsWith("+") && !line.startsWith("+++")) return paint(line, "green", color);
  if (line.startsWith("-") && !line.startsWith("---")) return paint(line, "red", color);
  return line;
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}
