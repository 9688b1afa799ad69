/**
 * The syntax of cron expressions as schedules are written: five fields (minute hour
 * day-of-month month day-of-week) or six with seconds first; each field `*`, a value, a range
 * `a-b`, a step `*\/n` or `a-b/n`, or a comma list of these; month and weekday names
 * (`jan`, `mon`) allowed. Checked when the definition is read, so a bad schedule is an error
 * at its line rather than a pipeline that silently never runs. What passes is also asked of
 * croner, which runs the schedules, so the two can never disagree on what is valid; the
 * fields are checked here first for messages that name the field.
 */
import { Cron } from "croner";

interface FieldRule {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const SECOND: FieldRule = { name: "second", min: 0, max: 59 };
const FIVE: readonly FieldRule[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
  },
  // 7 is Sunday too, as in most crons.
  { name: "day of week", min: 0, max: 7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

/** Undefined when the expression is valid; otherwise what is wrong with it, in a phrase. */
export function validateCronExpression(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    return `it has ${fields.length} field${fields.length === 1 ? "" : "s"}, not 5 (or 6 with seconds)`;
  }
  const rules = fields.length === 6 ? [SECOND, ...FIVE] : FIVE;
  for (const [i, field] of fields.entries()) {
    const rule = rules[i] as FieldRule;
    const problem = fieldProblem(field, rule);
    if (problem !== undefined) return `its ${rule.name} field "${field}" ${problem}`;
  }
  return scheduleProblem(expression);
}

/** What croner says of an expression our fields accept: one that never fires, mostly. */
function scheduleProblem(expression: string): string | undefined {
  let job: Cron | undefined;
  try {
    job = new Cron(expression, { mode: "5-or-6-parts", paused: true });
    return job.nextRun() === null ? "it never fires (a day no month has?)" : undefined;
  } catch (error) {
    return (error instanceof Error ? error.message : String(error)).replace(/^CronPattern:\s*/, "");
  } finally {
    job?.stop();
  }
}

function fieldProblem(field: string, rule: FieldRule): string | undefined {
  for (const part of field.split(",")) {
    const [range = "", step, extra] = part.split("/");
    if (extra !== undefined) return "has two steps (`/`)";
    if (step !== undefined && !/^[1-9]\d*$/.test(step))
      return `has the step "${step}", not a whole number ≥ 1`;
    if (range === "*") continue;
    const bounds = range.split("-");
    if (bounds.length > 2 || bounds.some((b) => b === ""))
      return `has "${range}", not a value or a range a-b`;
    const values = bounds.map((b) => fieldValue(b, rule));
    for (const [j, v] of values.entries()) {
      if (v === undefined) {
        return `has "${bounds[j]}", not ${rule.names ? "a number or a name" : "a number"} from ${rule.min} to ${rule.max}`;
      }
    }
    const [low, high] = values as number[];
    if (high !== undefined && low !== undefined && low > high)
      return `has the range ${range}, which runs backwards`;
  }
  return undefined;
}

function fieldValue(text: string, rule: FieldRule): number | undefined {
  const named = rule.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return rule.name === "month" ? named + 1 : named;
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= rule.min && n <= rule.max ? n : undefined;
}
