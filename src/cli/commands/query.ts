import type { Command } from "commander";
import type { QueryAnswer, QueryValue } from "../../api/metrics.js";
import { ExprError, parseExpr } from "../../client/expr.js";
import { runningClientFor } from "../connect.js";
import { type CommonOptions, withCommonOptions } from "../context.js";
import { CliError } from "../errors.js";
import { printJson, say, table } from "../output.js";

interface QueryOptions extends CommonOptions {
  readonly json?: boolean;
}

export function queryCommand(program: Command): void {
  withCommonOptions(program.command("query"))
    .description(
      "evaluate an alert expression (Baton's PromQL subset) over the metrics now: what a rule would see",
    )
    .argument("<expr>", "e.g. 'http_error_ratio{app=\"api\"} > 0.05'")
    .option("--json", "the answer of GET /api/v1/query")
    .action(async (expr: string, options: QueryOptions) => {
      // Checked here first: a mistake is shown under the expression, without a controller.
      try {
        parseExpr(expr);
      } catch (error) {
        if (error instanceof ExprError) throw exprCliError(expr, error);
        throw error;
      }
      const answer = await runningClientFor(options).query({ expr });
      if (options.json) return printJson(answer);
      say(renderQuery(answer));
    });
}

export function renderQuery(answer: QueryAnswer): string {
  if (answer.result.length === 0) {
    return "no series: the expression yields nothing now (an alert on it would not fire)";
  }
  const rows = [["LABELS", "VALUE"]];
  for (const element of answer.result) {
    const labels =
      Object.entries(element.labels)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(", ") || "{}";
    rows.push([labels, formatValue(element.value)]);
  }
  return table(rows);
}

function formatValue(value: QueryValue): string {
  if (typeof value === "string" || Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(2) : value.toPrecision(6);
}

/** The error with the expression's line and a caret under the column it names. */
function exprCliError(expr: string, error: ExprError): CliError {
  const line = expr.split("\n")[error.line - 1] ?? "";
  return new CliError(
    error.code,
    `${error.message}\n  ${line}\n  ${" ".repeat(Math.max(0, error.column - 1))}^`,
    error.hint,
  );
}
