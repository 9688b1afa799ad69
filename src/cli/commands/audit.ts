import type { Command } from "commander";
import type { AuditEntry } from "../../api/index.js";
import { clientFor } from "../connect.js";
import { type CommonOptions, withCommonOptions } from "../context.js";
import { CliError } from "../errors.js";
import { printJson, say, table } from "../output.js";

const AGO = /^(\d+)(s|m|h|d|w)$/;
const MS_PER: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `baton audit`: every mutating call, who made it (the token's name) and how it ended. */
export function auditCommand(program: Command): void {
  withCommonOptions(program.command("audit"))
    .description(
      "who changed what: every mutating API call (token, role, action, target, outcome, address) and the token commands run with no controller",
    )
    .option("--since <when>", "only entries since this long ago (1h, 7d) or this time (ISO 8601)")
    .option("--json", "{ entries: [{ id, at, who, role, action, target, outcome, address }] }")
    .action(async (options: CommonOptions & { since?: string; json?: boolean }) => {
      const since = options.since === undefined ? undefined : sinceOf(options.since, Date.now());
      const answer = await clientFor(options).audit(since === undefined ? {} : { since });
      if (options.json) return printJson(answer);
      say(renderAudit(answer.entries));
    });
}

export function sinceOf(text: string, now: number): number {
  const ago = AGO.exec(text);
  if (ago !== null) return now - Number(ago[1]) * (MS_PER[ago[2] ?? ""] ?? 0);
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isFinite(at)) return at;
  throw new CliError(
    "audit.invalid_since",
    `--since must be a time ago (30m, 1h, 7d) or an ISO 8601 time (2026-01-31T12:00:00Z), found ${JSON.stringify(text)}`,
    "write --since 1h",
  );
}

function renderAudit(entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return "nothing recorded";
  const rows = entries.map((e) => [
    new Date(e.at).toISOString(),
    e.who,
    e.role,
    e.action,
    e.target ?? "-",
    String(e.outcome),
    e.address,
  ]);
  return table([["WHEN", "WHO", "ROLE", "ACTION", "TARGET", "OUTCOME", "FROM"], ...rows]);
}
