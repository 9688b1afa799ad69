import type { Command } from "commander";
import type { MetricDeclaration } from "../../api/metrics.js";
import { parseDuration } from "../../definition/units.js";
import { runningClientFor } from "../connect.js";
import { type CommonOptions, withCommonOptions } from "../context.js";
import { CliError } from "../errors.js";
import { type MetricsJson, ratesOf } from "../metrics-math.js";
import { printJson, say, table } from "../output.js";

interface MetricsOptions extends CommonOptions {
  readonly app?: string;
  readonly match?: string[];
  readonly since: string;
  readonly step?: string;
  readonly json?: boolean;
}

/** Rows a table shows per series at most when no --step is given: the rest is thinned. */
const TABLE_ROWS = 30;

export function metricsCommand(program: Command): void {
  withCommonOptions(program.command("metrics"))
    .description("a metric's recent samples (counters with their rate); without NAME, every metric")
    .argument("[name]", "the metric, e.g. baton_http_requests_total")
    .option("--app <app>", "only the series of this app")
    .option(
      "--match <matcher>",
      "only series whose labels match, e.g. code=500 or code=~5.. (repeatable)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option("--since <duration>", "how far back", "1h")
    .option(
      "--step <duration>",
      "one sample per step (default: the table shows about 30 per series)",
    )
    .option("--json", "the series as GET /api/v1/metrics answers them")
    .action(async (name: string | undefined, options: MetricsOptions) => {
      const client = runningClientFor(options);
      if (name === undefined) {
        const answer = await client.metrics();
        if (options.json) return printJson(answer);
        return say(renderNames(answer.metrics));
      }
      const sinceMs = durationOption("--since", options.since);
      const stepMs =
        options.step !== undefined
          ? durationOption("--step", options.step)
          : options.json
            ? undefined
            : Math.max(1_000, Math.floor(sinceMs / TABLE_ROWS));
      const answer = await client.metric({
        name,
        since: `${sinceMs}ms`,
        ...(stepMs === undefined ? {} : { step: `${stepMs}ms` }),
        match: [
          ...(options.app === undefined ? [] : [`app=${options.app}`]),
          ...(options.match ?? []),
        ],
      });
      if (options.json) return printJson(answer);
      say(renderSeries(answer));
    });
}

function durationOption(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    throw new CliError(
      "cli.invalid_duration",
      `${flag} ${JSON.stringify(text)} is not a duration`,
      "write it like 30s, 15m or 1h",
    );
  }
  return ms;
}

export function renderNames(metrics: readonly MetricDeclaration[]): string {
  if (metrics.length === 0) return "no metrics recorded yet";
  const rows = [["NAME", "KIND", "UNIT", "HELP"]];
  for (const m of metrics) rows.push([m.name, m.kind, m.unit || "-", m.help]);
  return table(rows);
}

export function renderSeries(answer: MetricsJson): string {
  if (answer.series.length === 0) return `${answer.name}: no samples in this range`;
  const counter = answer.kind === "counter";
  const rows = [["TIME", "LABELS", "VALUE", ...(counter ? ["RATE/S"] : [])]];
  for (const series of answer.series) {
    const labels =
      Object.entries(series.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(",") || "-";
    const rates = counter ? ratesOf(series.samples) : [];
    series.samples.forEach(([at, value], i) => {
      const rate = rates[i];
      rows.push([
        new Date(at).toISOString().replace("T", " ").slice(0, 19),
        labels,
        formatValue(value),
        ...(counter ? [rate === undefined ? "-" : formatValue(rate)] : []),
      ]);
    });
  }
  const unit = answer.unit === "" ? "" : ` (${answer.unit})`;
  return `${answer.name}${unit}: ${answer.help}\n${table(rows)}`;
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(1) : value.toPrecision(4);
}
