import type { Command } from "commander";
import type { AppStatus, StatusAnswer } from "../../api/index.js";
import type { BatonClient } from "../../client/client.js";
import { parseDuration } from "../../definition/units.js";
import { delay } from "../../util/wait.js";
import { runningClientFor } from "../connect.js";
import { type CommonOptions, withCommonOptions } from "../context.js";
import { CliError } from "../errors.js";
import { say, useColor } from "../output.js";
import { recreateHint, rolledBackHint } from "../rollout-hints.js";

export function waitCommand(program: Command): void {
  withCommonOptions(program.command("wait"))
    .description("wait until every app has its desired count ready on its desired revision")
    .option("--timeout <duration>", "give up after this long (exit 1)", "60s")
    .action(async (options: CommonOptions & { timeout: string }) => {
      const timeoutMs = durationOption("--timeout", options.timeout);
      await waitConverged(runningClientFor(options), timeoutMs);
    });
}

export function durationOption(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) {
    throw new CliError(
      "cli.invalid_duration",
      `${flag} must be a duration like 30s or 2m, found ${JSON.stringify(text)}`,
      `write ${flag} 60s`,
    );
  }
  return ms;
}

/** Polls the status until converged; shows progress on a terminal; throws on timeout. */
export async function waitConverged(client: BatonClient, timeoutMs: number): Promise<StatusAnswer> {
  const deadline = Date.now() + timeoutMs;
  const tty = useColor(process.stderr) || process.stderr.isTTY === true;
  for (;;) {
    const status = await client.status();
    // Definitive: the revision was rolled back. A failed first deploy is retried, so waited on.
    const failed = status.apps.filter((a) => a.state === "rolled-back");
    if (failed.length > 0) {
      if (tty) process.stderr.write("\r\u001b[K");
      throw new CliError(
        "wait.rollout_failed",
        failed.map(describeFailure).join("\n"),
        failureHint(failed),
      );
    }
    // An app whose proxy cannot serve its port (taken by another process) reaches nobody,
    // however ready its replicas are.
    const pending = status.apps.filter(
      (a) => a.state !== "converged" || a.proxyError !== undefined,
    );
    if (pending.length === 0) {
      if (tty) process.stderr.write("\r\u001b[K");
      say(
        `converged: ${status.apps.map((a) => `${a.name} ${a.ready}/${a.desired}`).join(", ") || "no apps"}`,
      );
      return status;
    }
    // `waiting` (for a dependency) is on its way like `progressing`: waited on, never a failure.
    const progress = pending
      .map(
        (a) =>
          `${a.name} ${a.ready}/${a.desired} ${a.state}${a.detail ? ` (${a.detail})` : ""}${a.proxyError ? ` (proxy: ${a.proxyError})` : ""}`,
      )
      .join(", ");
    if (Date.now() >= deadline) {
      if (tty) process.stderr.write("\r\u001b[K");
      const details = pending
        .flatMap((a) =>
          a.replicas
            .filter((r) => !r.ready)
            .map((r) => `  ${r.id}: ${r.state}${r.detail ? ` (${r.detail})` : ""}`),
        )
        .join("\n");
      throw new CliError(
        "wait.timeout",
        `not converged after ${timeoutMs / 1000}s: ${progress}${details ? `\n${details}` : ""}`,
        "see `baton status` and `baton logs APP`",
      );
    }
    if (tty) process.stderr.write(`\r\u001b[Kwaiting: ${progress}`);
    await delay(150);
  }
}

/** Why an app's revision was rolled back, with the failing replica's last output. */
function describeFailure(app: AppStatus): string {
  const rollout = app.rollout;
  const what = `${app.name}: revision ${rollout?.to ?? "?"} failed and was rolled back to ${app.revision}`;
  const why = rollout?.reason ? `: ${rollout.reason}` : "";
  const lines = (rollout?.lastOutput ?? []).map((line) => `    | ${line}`);
  return [`${what}${why}`, ...(lines.length > 0 ? ["  last output:", ...lines] : [])].join("\n");
}

/** The first app's hint; one whose failure a recreate would avoid comes first. */
function failureHint(apps: readonly AppStatus[]): string {
  const facts = apps.map((a) => ({
    app: a.name,
    oldRunning: a.rollout?.oldRunning ?? null,
    lastOutput: a.rollout?.lastOutput ?? [],
  }));
  const first = facts.find((f) => recreateHint(f) !== undefined) ?? facts[0];
  return rolledBackHint(first ?? { app: "APP", oldRunning: null, lastOutput: [] });
}
