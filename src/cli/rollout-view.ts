/**
 * How rollouts read on a terminal (`baton history`, `baton rollout status`, `baton rollback`):
 * pure functions of the API's answers, so every wording is tested without a controller.
 */
import type {
  AppHistory,
  RolloutRecord,
  RolloutState,
  RolloutStatus,
  RolloutStep,
} from "../api/index.js";
import { formatAge, paint, type Style, table } from "./output.js";
import { recreateHint } from "./rollout-hints.js";

const OUTCOME: Readonly<Record<RolloutState, { word: string; style: Style }>> = {
  progressing: { word: "in progress", style: "yellow" },
  "rolling-back": { word: "rolling back", style: "yellow" },
  "rolled-out": { word: "rolled out", style: "green" },
  "rolled-back": { word: "rolled back", style: "red" },
  failed: { word: "failed", style: "red" },
  superseded: { word: "superseded", style: "gray" },
};

/** A WHY cell narrower than this says too little to be worth the truncation. */
const MIN_WHY_WIDTH = 20;

/** The steps `rollout status --no-watch` shows: enough to see where it stands. */
export const STATUS_STEPS = 10;

export function outcomeWord(state: RolloutState): string {
  return OUTCOME[state].word;
}

export function paintOutcome(state: RolloutState, color: boolean): string {
  return paint(OUTCOME[state].word, OUTCOME[state].style, color);
}

const pad2 = (n: number): string => String(n).padStart(2, "0");

/** HH:MM:SS.mmm in local time: steps are seconds apart, so the milliseconds tell the order. */
export function clockTime(at: number): string {
  const d = new Date(at);
  const ms = String(d.getMilliseconds()).padStart(3, "0");
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${ms}`;
}

/** YYYY-MM-DD HH:MM:SS in local time. */
export function localDateTime(at: number): string {
  const d = new Date(at);
  const date = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  return `${date} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** How long a rollout took: a fast one is worth its tenths of a second, a slow one is not. */
export function formatElapsed(ms: number): string {
  const whole = Math.max(0, Math.round(ms));
  if (whole < 1000) return `${whole}ms`;
  if (whole < 10_000) return `${(Math.floor(whole / 100) / 10).toFixed(1)}s`;
  return formatAge(whole);
}

/** `HH:MM:SS.mmm  action    replica  detail`; actions are padded so details start together. */
export function formatStep(step: RolloutStep): string {
  return `${clockTime(step.at)}  ${step.action.padEnd(8)}  ${step.replica ?? "-"}  ${step.detail}`.trimEnd();
}

/** `updated 2/4, old 2`; while rolling back the counts are of the revision coming back. */
export function formatProgress(status: RolloutStatus): string | undefined {
  const p = status.progress;
  if (p === null) return undefined;
  const counts = `updated ${p.updated}/${p.desired}, old ${p.old}`;
  return status.rollout?.state === "rolling-back"
    ? `rolling back to ${p.target}: ${counts}`
    : counts;
}

/** `rollout 12 of web rolled out: 1a2b3c4d5e6f → 6f5e4d3c2b1a, took 8.2s` */
export function describeRollout(record: RolloutRecord, color = false): string {
  const took =
    record.finishedAt === null
      ? ""
      : `, took ${formatElapsed(record.finishedAt - record.startedAt)}`;
  return `rollout ${record.id} of ${record.app} ${paintOutcome(record.state, color)}: ${revisions(record)}${took}`;
}

function revisions(record: RolloutRecord): string {
  return `${record.fromRevision ?? "nothing"} → ${record.toRevision}`;
}

/**
 * Why a rollout did not roll out, for an error message: the reason (every line of it) and
 * the failing replica's last output, indented under it so it reads as evidence.
 */
export function failureDetail(record: RolloutRecord): string {
  const reason = record.reason ?? "no reason was recorded";
  const [first = "", ...rest] = reason.split("\n");
  const lines = [first, ...rest.map((line) => `  ${line}`)];
  if (record.lastOutput.length > 0) {
    lines.push("  last output of the failing replica:");
    lines.push(...record.lastOutput.map((line) => `    ${line}`));
  }
  return lines.join("\n");
}

/** `rollout 12 of web rolled back (1a2b… → 3c4d…): <reason>`, with its evidence below. */
export function describeFailure(record: RolloutRecord): string {
  return `rollout ${record.id} of ${record.app} ${outcomeWord(record.state)} (${revisions(record)}): ${failureDetail(record)}`;
}

/** The first line of a reason, shortened to `max` characters with an ellipsis. */
export function truncate(text: string, max: number): string {
  const line = text.split("\n", 1)[0] ?? "";
  if (line.length <= max) return line;
  return `${line.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * The row of the revision serving now: the newest rollout that brought it in. A revision
 * that came back by a rolled-back rollout is marked on the older rollout that first rolled
 * it out, since that is the row whose REVISION it is.
 */
export function currentRolloutId(history: AppHistory): number | undefined {
  if (history.current === null) return undefined;
  return history.rollouts.find((r) => r.toRevision === history.current && r.state === "rolled-out")
    ?.id;
}

export interface HistoryViewOptions {
  readonly color: boolean;
  /** The terminal's width, to fit WHY on one line; undefined when not a terminal. */
  readonly width?: number | undefined;
}

/** `baton history APP`: newest first, the current revision's row marked with `*`. */
export function renderHistory(history: AppHistory, options: HistoryViewOptions): string {
  if (history.rollouts.length === 0) return `${history.app} has not rolled out yet`;
  const current = currentRolloutId(history);
  // The mark leads the row, as `git branch` marks the branch checked out.
  const header = ["  ROLLOUT", "REVISION", "FROM", "TRIGGER", "OUTCOME", "WHEN", "BY"];
  const rows = history.rollouts.map((r) => [
    `${r.id === current ? "*" : " "} ${r.id}`,
    r.toRevision,
    r.fromRevision ?? "-",
    r.trigger,
    outcomeWord(r.state),
    when(r),
    r.by,
  ]);
  // The widths are measured before colouring; WHY gets what the other columns leave.
  const used = [header, ...rows].reduce(
    (widths, row) => widths.map((w, i) => Math.max(w, (row[i] ?? "").length)),
    header.map(() => 0),
  );
  const before = used.reduce((sum, w) => sum + w + 2, 0);
  const whyWidth =
    options.width === undefined ? undefined : Math.max(MIN_WHY_WIDTH, options.width - before);
  const rendered = table([
    [...header, "WHY"],
    ...history.rollouts.map((r, i) => {
      const cells = [
        ...(rows[i] ?? []),
        truncate(r.reason ?? "", whyWidth ?? Number.POSITIVE_INFINITY),
      ];
      cells[header.indexOf("OUTCOME")] = paintOutcome(r.state, options.color);
      return cells;
    }),
  ]);
  // The last rollout failed on what the old revision held: the way out is not in the table.
  const newest = history.rollouts[0];
  const hint = newest?.state === "rolled-back" ? recreateHint(newest) : undefined;
  return hint === undefined ? rendered : `${rendered}\n\nhint: ${hint}`;
}

function when(record: RolloutRecord): string {
  const started = localDateTime(record.startedAt);
  if (record.finishedAt === null) return started;
  return `${started} (${formatElapsed(record.finishedAt - record.startedAt)})`;
}

/** `baton rollout status APP --no-watch`: the outcome, the counts and the last steps. */
export function renderRolloutStatus(status: RolloutStatus, color: boolean): string {
  const record = status.rollout;
  if (record === null) return `${status.app} has not rolled out yet`;
  const lines = [
    `${describeRollout(record, color)} (${record.trigger} by ${record.by}, started ${localDateTime(record.startedAt)})`,
  ];
  const progress = formatProgress(status);
  if (progress !== undefined) lines.push(progress);
  if (record.reason !== null || record.lastOutput.length > 0) {
    lines.push(...failureDetail(record).split("\n"));
  }
  const steps = status.steps.filter((s) => s.rollout === record.id).slice(-STATUS_STEPS);
  if (steps.length > 0) lines.push("", ...steps.map(formatStep));
  return lines.join("\n");
}
