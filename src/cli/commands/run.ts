import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import type { Command } from "commander";
import { routes } from "../../api/routes.js";
import { runsDirectory, stepLogFile } from "../../delivery/run-paths.js";
import { prunedRunError } from "../../observe/logs/pruned-run.js";
import type { RunRecord, StepRecord } from "../../store/index.js";
import { SqliteStore } from "../../store/index.js";
import { requireController } from "../api-client.js";
import { type CommonOptions, stateDir, whoAmI, withCommonOptions } from "../context.js";
import { CliError } from "../errors.js";
import { eventWake } from "../event-wake.js";
import { paint, printJson, say, useColor } from "../output.js";
import { renderRuns } from "../run-view.js";
import { durationOption } from "./wait.js";

const ENDED = new Set<RunRecord["state"]>(["passed", "failed", "cancelled", "interrupted"]);
/** How often a follower looks again (a CLI waiting on files and the store, not a test). */
const FOLLOW_MS = 250;
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
        const dir = stateDir(options);
        const client = requireController(dir);
        const body = await client.send(
          routes.triggerRun(pipeline, {
            ...(options.ref === undefined ? {} : { ref: options.ref }),
            by: whoAmI(),
          }),
        );
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
        const changed = eventWake(client, routes.eventStream({ after: "latest" }), (type) =>
          type.startsWith("run."),
        );
        try {
          for (;;) {
            const now = await client.send(routes.run(queued.id));
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
      const client = requireController(stateDir(options));
      const body = await client.send(routes.cancelRun(id, { by: whoAmI() }));
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
      const dir = stateDir(options);
      const runId = Number(id);
      const store = SqliteStore.open(dir, { create: false });
      try {
        const record = store.runs.get(runId);
        if (record === undefined) {
          throw new CliError(
            "run.not_found",
            `there is no run #${id} in ${dir}`,
            "`baton runs` lists them",
          );
        }
        if (record.pruned !== undefined) throw prunedRunError(record);
        const offsets = new Map<string, number>();
        const color = useColor();
        for (;;) {
          const printed = printNewLines(
            runsDirectory(dir),
            runId,
            store.runs.steps(runId),
            offsets,
            color,
          );
          const ended = ENDED.has(store.runs.get(runId)?.state ?? "failed");
          if (!options.follow || (ended && !printed)) return;
          await new Promise((r) => setTimeout(r, FOLLOW_MS));
        }
      } finally {
        store.close();
      }
    });
}

/** Prints each step's complete new lines since the last call; true when it printed any. */
function printNewLines(
  runsDir: string,
  runId: number,
  steps: readonly StepRecord[],
  offsets: Map<string, number>,
  color: boolean,
): boolean {
  let printed = false;
  const width = Math.max(...steps.map((s) => s.name.length));
  for (const step of steps) {
    const file = stepLogFile(runsDir, runId, step.name);
    if (!existsSync(file)) continue;
    const from = offsets.get(step.name) ?? 0;
    const size = statSync(file).size;
    if (size <= from) continue;
    const buffer = Buffer.alloc(size - from);
    const fd = openSync(file, "r");
    try {
      readSync(fd, buffer, 0, buffer.length, from);
    } finally {
      closeSync(fd);
    }
    const text = buffer.toString("utf8");
    const complete = step.finishedAt !== null ? text.length : text.lastIndexOf("\n") + 1;
    if (complete === 0) continue;
    offsets.set(step.name, from + Buffer.byteLength(text.slice(0, complete)));
    const prefix = paint(`${step.name.padEnd(width)} |`, "gray", color);
    for (const line of text.slice(0, complete).replace(/\n$/, "").split("\n"))
      say(`${prefix} ${line}`);
    printed = true;
  }
  return printed;
}
