/**
 * How pipeline runs read in a terminal: one line per run (number, pipeline, commit, state,
 * trigger, when, how long), then its steps with their state, duration and detail — the
 * failing tests' names among them.
 */
import type { RunRecord, StepRecord } from "../api/index.js";
import { paint, table } from "./output.js";
import { formatElapsed, localDateTime } from "./rollout-view.js";

type Style = Parameters<typeof paint>[1];

const STYLE: Readonly<Record<string, Style>> = {
  passed: "green",
  failed: "red",
  "timed-out": "red",
  cancelled: "yellow",
  interrupted: "yellow",
  running: "bold",
  waiting: "yellow",
  queued: "gray",
  pending: "gray",
  skipped: "gray",
};

export function renderRuns(
  runs: readonly { readonly run: RunRecord; readonly steps: readonly StepRecord[] }[],
  options: { color: boolean; now: number },
): string {
  if (runs.length === 0) return "no runs yet: `baton run PIPELINE` starts one";
  const { color, now } = options;
  const lines: string[] = [];
  for (const { run, steps } of runs) {
    const took =
      run.startedAt === null ? "" : formatElapsed((run.finishedAt ?? now) - run.startedAt);
    lines.push(
      `${paint(`#${run.id}`, "bold", color)} ${run.pipeline} ${run.commit.slice(0, 8)} ${paint(run.state, STYLE[run.state] ?? "bold", color)}  ${run.trigger}, ${localDateTime(run.createdAt)}${took ? `, ${took}` : ""}${run.subject ? `  ${run.subject}` : ""}`,
    );
    if (run.reason !== null) lines.push(`   ${paint(run.reason, "gray", color)}`);
    if (run.pruned !== undefined) {
      lines.push(`   ${paint(`files removed by retention (${run.pruned.reason})`, "gray", color)}`);
    }
    const rows = steps.map((s) => [
      s.name,
      paint(s.state, STYLE[s.state] ?? "bold", color),
      s.startedAt === null ? "" : formatElapsed((s.finishedAt ?? now) - s.startedAt),
      s.detail ?? "",
    ]);
    if (rows.length > 0) lines.push(table(rows, "   "));
  }
  return lines.join("\n");
}
