import type { Command } from "commander";
import type { AppStatus, StatusAnswer } from "../../api/index.js";
import { clientFor } from "../connect.js";
import { type CommonOptions, withCommonOptions } from "../context.js";
import { formatAge, paint, printJson, say, table, useColor } from "../output.js";

export function statusCommand(program: Command): void {
  withCommonOptions(program.command("status"))
    .description(
      "the controller, each app and each replica; with no controller running, what still runs (nothing heals it)",
    )
    .option("--json", "the same JSON as GET /api/v1/status (`controller: null` when none runs)")
    .action(async (options: CommonOptions & { json?: boolean }) => {
      const status = await clientFor(options).status({ stats: true });
      if (options.json) return printJson(status);
      say(renderStatus(status, useColor()));
    });
}

export function renderStatus(status: StatusAnswer, color: boolean): string {
  const c = status.controller;
  const lines = [
    c === null
      ? paint(
          "no controller runs: what runs below is not healed — `baton up` takes it back",
          "yellow",
          color,
        )
      : `controller pid ${c.pid} on ${c.api}, up ${formatAge(Date.now() - c.startedAt)}; definition generation ${c.definition.generation} (${c.definition.file})${c.definition.environment ? `, environment ${c.definition.environment}` : ""}`,
    "",
  ];
  const rows: string[][] = [["APP", "READY", "STATE", "PORT", "REVISION"]];
  for (const app of status.apps) {
    rows.push([
      app.name,
      `${app.ready}/${app.desired}`,
      stateColor(app.state, color),
      app.port === null ? "-" : `${app.port}/${app.protocol}`,
      app.revision,
    ]);
  }
  lines.push(table(rows));
  for (const app of status.apps) lines.push("", ...replicaLines(app, color));
  return lines.join("\n");
}

function replicaLines(app: AppStatus, color: boolean): string[] {
  const detail = app.detail === undefined ? "" : ` (${app.detail})`;
  if (app.replicas.length === 0) return [`${app.name}: no replicas${detail}`];
  const rows: string[][] = [
    ["REPLICA", "STATE", "PID", "PORT", "RESTARTS", "AGE", "CPU", "MEM", "DETAIL"],
  ];
  for (const r of app.replicas) {
    rows.push([
      r.id,
      stateColor(r.state, color),
      r.pid === null ? "-" : String(r.pid),
      r.port === null ? "-" : String(r.port),
      String(r.restarts),
      r.startedAt === null ? "-" : formatAge(Date.now() - r.startedAt),
      r.cpuSeconds === undefined ? "-" : `${r.cpuSeconds.toFixed(1)}s`,
      r.memoryBytes === undefined ? "-" : formatBytes(r.memoryBytes),
      r.detail ?? "",
    ]);
  }
  const header = `${paint(app.name, "bold", color)}${app.detail ? `  ${paint(app.detail, "cyan", color)}` : ""}${app.proxyError ? `  ${paint(`proxy: ${app.proxyError}`, "red", color)}` : ""}`;
  return [header, table(rows, "  ")];
}

/** Green serves, red needs a look; yellow is on its way, cyan waits for another app. */
function stateColor(state: string, color: boolean): string {
  if (state === "ready" || state === "converged") return paint(state, "green", color);
  if (state === "crash-loop" || state === "unready" || state === "degraded")
    return paint(state, "red", color);
  if (state === "waiting") return paint(state, "cyan", color);
  return paint(state, "yellow", color);
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)}Gi`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)}Mi`;
  return `${Math.round(bytes / 1024)}Ki`;
}
