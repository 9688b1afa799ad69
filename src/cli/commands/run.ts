import type { Command } from "commander";
import type { RunRecord } from "../../api/index.js";
import { clientFor, runningClientFor } from "../connect.js";
import { type CommonOptions, whoAmI, withCommonOptions } from "../context.js";
import { CliError } from "../errors.js";
import { eventWake } from "../event-wake.js";
import { paint, printJson, say, useColor } from "../output.js";
import { renderRuns } from "../run-view.js";
import { durationOption } from "./wait.js";

const ENDED = new Set<RunRecord["state"]>(["passed", "failed", "cancelled", "interrupted"]);
/** How often `run --wait` asks anyway, should the event stream break. */
const WAIT_POLL_MS = 1_000;

export function runCommand(program: Command): void {
  const run = withCommonOptions(program.command("run"))
    .summary("start a run of a pipeline (and `baton run logs RUN` for its output)")
    .description(
      "queue a run of PIPELINE for its branch's head (or --ref) in the running controller; with --wait, follow it to its end (exit 0 passed, 1 otherwise)",
    )
    .argument("<pipeline>")
    .option("--ref <ref>", "a branch, tag or commit instead of the branch's head")
    .option("--wait", "follow the run until it ends")
    .option("--timeout <duration>", "with --wait: give up after this long", "1h")
    .option("--json", "{ run, steps } (when it ends, with --wait)")
    .action(
      async (
        pipeline: string,
        options: CommonOptions & { ref?: string; wait?: boolean; timeout: string; json?: boolean },
      ) => {
        const timeoutMs = durationOption("--timeout", options.timeout);
        const client = runningClientFor(options);
        const body = await client.triggerRun(pipeline, {
          ...(options.ref === undefined ? {} : { ref: options.ref }),
          by: whoAmI(),
        });
        const queued = body.run;
        if (!options.wait) {
          if (options.json) return printJson(body);
          return say(
            `${pipeline} #${queued.id} queued for ${queued.commit.slice(0, 8)}${queued.subject ? ` (${queued.subject})` : ""}; \`baton run logs ${queued.id} -f\` follows it`,
          );
        }
        if (!options.json) say(`${pipeline} #${queued.id} queued for ${queued.commit.slice(0, 8)}`);
        const deadline = Date.now() + timeoutMs;
        let seen = "";
        // A step's change is a `run.step` event: the stream wakes the follower at once, the
        // interval only covers a stream that broke.
        const changed = eventWake(client, undefined, (event) => event.type.startsWith("run."));
        try {
          for (;;) {
            const now = await client.run(queued.id);
            const line = now.steps.map((s) => `${s.name}:${s.state}`).join(" ");
            if (line !== seen && !options.json) {
              for (const s of now.steps) {
                if (!seen.includes(`${s.name}:${s.state}`) && s.state !== "pending") {
                  say(`  ${s.name} ${s.state}${s.detail ? `: ${s.detail}` : ""}`);
                }
              }
              seen = line;
            }
            if (ENDED.has(now.run.state)) {
              if (options.json) printJson(now);
              else say(renderRuns([now], { color: useColor(), now: Date.now() }));
              if (now.run.state !== "passed") process.exitCode = 1;
              return;
            }
            if (Date.now() > deadline) {
              throw new CliError(
                "run.timeout",
                `run #${queued.id} has not ended after ${options.timeout}`,
                `\`baton runs ${pipeline}\` shows where it stands`,
              );
            }
            await changed.next(WAIT_POLL_MS);
          }
        } finally {
          changed.close();
        }
      },
    );
  withCommonOptions(run.command("cancel"))
    .description(
      "cancel a queued or running run: its running step is stopped (its whole process tree); a deploy already under way finishes as a rollout of its own",
    )
    .argument("<run>")
    .option("--json", "{ run, steps }")
    .action(async (id: string, options: CommonOptions & { json?: boolean }) => {
      const body = await runningClientFor(options).cancelRun(id, { by: whoAmI() });
      if (options.json) return printJson(body);
      say(`run #${id} cancelled`);
    });
  withCommonOptions(run.command("logs"), false)
    .option("--file <file>", "the definition file (locates the state directory)", "baton.yaml")
    .description(
      "the output of a run's steps (commands, and the builds' progress), each line prefixed with its step; -f follows until the run ends",
    )
    .argument("<run>", "the run's number (`baton runs`)")
    .option("-f, --follow", "keep printing until the run ends")
    .action(async (id: string, options: CommonOptions & { follow?: boolean }) => {
      const client = clientFor(options);
      const { steps } = await client.run(id);
      const width = Math.max(0, ...steps.map((s) => s.name.length));
      const color = useColor();
      const stop = new AbortController();
      const interrupt = (): void => stop.abort();
      process.once("SIGINT", interrupt);
      try {
        // The run's own log source: its steps' output as written, ending with the run.
        for await (const record of client.logs(
          { target: `run/${id}`, ...(options.follow ? { follow: true } : {}) },
          stop.signal,
        )) {
          say(`${paint(`${(record.step ?? "").padEnd(width)} |`, "gray", color)} ${record.line}`);
        }
      } finally {
        process.off("SIGINT", interrupt);
      }
    });
}
