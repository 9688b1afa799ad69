/**
 * Following one rollout until it ends, as `baton rollout status` and `baton rollback --wait`
 * both do: poll its status, print each journal step once, keep a live progress line on a
 * terminal, and tell how it ended.
 */

import {
  type AppHistory,
  FINISHED_ROLLOUT_STATES,
  type RolloutRecord,
  type RolloutStatus,
} from "../api/index.js";
import type { BatonClient } from "../client/client.js";
import { formatDuration } from "../definition/units.js";
import { delay } from "../util/wait.js";
import { CliError } from "./errors.js";
import { type EventWake, eventWake } from "./event-wake.js";
import { say } from "./output.js";
import { recreateHint } from "./rollout-hints.js";
import {
  describeFailure,
  describeRollout,
  formatProgress,
  formatStep,
  outcomeWord,
} from "./rollout-view.js";

/** Often enough that a step shows as it happens, rarely enough to cost the controller nothing. */
const POLL_INTERVAL_MS = 200;

/** Where the rollouts of an app are read from: the API, or a script in tests. */
export interface RolloutSource {
  status(app: string): Promise<RolloutStatus>;
  history(app: string): Promise<AppHistory>;
  /**
   * Resolves when something may have changed for the app (an event of it), or after `ms`
   * at the latest. Without it, following sleeps the whole interval between polls.
   */
  changed?(app: string, ms: number): Promise<void>;
  /** Lets go of what `changed` holds open. */
  close?(): void;
}

export function clientRolloutSource(client: BatonClient): RolloutSource {
  let events: EventWake | undefined;
  return {
    status: (app) => client.rollout(app),
    history: (app) => client.history(app),
    // The event stream ends a poll's sleep as soon as a rollout ends or a replica changes,
    // instead of up to an interval later: what `deploy --wait` costs beyond the rollout.
    changed(app, ms) {
      // Only events from now on: the first poll has seen what happened before.
      events ??= eventWake(client, app);
      return events.next(ms);
    },
    close() {
      events?.close();
      events = undefined;
    },
  };
}

/** What following shows while it waits; the outcome is the caller's to print. */
export interface FollowOutput {
  /** A journal step, each once, in order. */
  step(line: string): void;
  /** The live progress line, replacing the previous one. */
  progress(line: string): void;
  /** Removes the progress line before anything else is printed. */
  clear(): void;
}

/** Steps on stdout; the progress line on stderr, and only on a terminal, where it can be redrawn. */
export function terminalOutput(stream: NodeJS.WriteStream = process.stderr): FollowOutput {
  const tty = stream.isTTY === true;
  let shown = false;
  const clear = (): void => {
    if (shown) stream.write("\r\u001b[K");
    shown = false;
  };
  return {
    step(line) {
      clear();
      say(line);
    },
    progress(line) {
      if (!tty) return;
      stream.write(`\r\u001b[K${line}`);
      shown = true;
    },
    clear,
  };
}

/** For `--json`: one JSON document on stdout and nothing else. */
export const silentOutput: FollowOutput = { step() {}, progress() {}, clear() {} };

export interface FollowOptions {
  readonly timeoutMs: number;
  /** The rollout to follow (rollback knows its own); else the app's current or last one. */
  readonly rolloutId?: number | undefined;
  readonly output?: FollowOutput;
  readonly intervalMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Polls until the rollout has ended and returns its final record, or null when the app never
 * rolled out. A rollout that had already ended when following began is returned at once,
 * without replaying its journal. Throws `rollout.timeout` when the deadline passes first.
 */
export async function followRollout(
  source: RolloutSource,
  app: string,
  options: FollowOptions,
): Promise<RolloutRecord | null> {
  try {
    return await pollUntilEnded(source, app, options);
  } finally {
    // An open event stream would keep the CLI from exiting.
    source.close?.();
  }
}

async function pollUntilEnded(
  source: RolloutSource,
  app: string,
  options: FollowOptions,
): Promise<RolloutRecord | null> {
  const output = options.output ?? terminalOutput();
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? delay;
  const deadline = now() + options.timeoutMs;
  let followed = options.rolloutId;
  let lastSeq = Number.NEGATIVE_INFINITY;
  for (let first = true; ; first = false) {
    const status = await source.status(app);
    const record = status.rollout;
    if (record === null && followed === undefined) return null;
    followed ??= record?.id;
    if (record !== null && followed !== undefined && record.id > followed) {
      // A newer rollout started, so ours has ended (superseded, most likely): the status now
      // shows the newer one, and ours is found in the history.
      const ours = (await source.history(app)).rollouts.find((r) => r.id === followed);
      if (ours === undefined) {
        output.clear();
        throw new CliError(
          "rollout.not_found",
          `rollout ${followed} of ${app} is not in its history; rollout ${record.id} has started since`,
          `\`baton rollout status ${app}\` follows the newer one`,
        );
      }
      if (FINISHED_ROLLOUT_STATES.has(ours.state)) {
        output.clear();
        return ours;
      }
    } else if (record !== null && record.id === followed) {
      const finished = FINISHED_ROLLOUT_STATES.has(record.state);
      const replay = !(first && finished && options.rolloutId === undefined);
      for (const step of status.steps) {
        if (step.rollout !== followed || step.seq <= lastSeq) continue;
        lastSeq = step.seq;
        if (replay) output.step(formatStep(step));
      }
      if (finished) {
        output.clear();
        return record;
      }
      const progress = formatProgress(status);
      if (progress !== undefined) output.progress(progress);
    }
    // Otherwise the rollout we were handed is not visible yet: keep polling until it is.
    if (now() >= deadline) {
      output.clear();
      throw timeoutError(app, followed, status, options.timeoutMs);
    }
    const interval = options.intervalMs ?? POLL_INTERVAL_MS;
    await (source.changed === undefined ? sleep(interval) : source.changed(app, interval));
  }
}

function timeoutError(
  app: string,
  followed: number | undefined,
  status: RolloutStatus,
  timeoutMs: number,
): CliError {
  const record = status.rollout;
  const progress = formatProgress(status);
  const where =
    record === null || record.id !== followed
      ? "not visible yet"
      : `${outcomeWord(record.state)}${progress === undefined ? "" : ` (${progress})`}`;
  return new CliError(
    "rollout.timeout",
    `rollout ${followed ?? "?"} of ${app} still ${where} after ${formatDuration(timeoutMs)}`,
    `the rollout goes on without you: \`baton rollout status ${app}\` follows it again`,
  );
}

/**
 * Prints a rolled-out rollout's outcome, or throws a CliError (exit 1) with the reason and
 * the failing replica's last output for any other ending. An app that never rolled out is
 * not a failure.
 */
export function reportOutcome(app: string, record: RolloutRecord | null, color: boolean): void {
  if (record === null) {
    say(`${app} has not rolled out yet`);
    return;
  }
  const error = outcomeError(record);
  if (error !== undefined) throw error;
  say(describeRollout(record, color));
}

/** The error for a rollout that ended in anything but rolled-out; undefined if it did not. */
export function outcomeError(record: RolloutRecord): CliError | undefined {
  if (record.state === "rolled-out" || !FINISHED_ROLLOUT_STATES.has(record.state)) {
    return undefined;
  }
  const hint =
    record.state === "superseded"
      ? `\`baton rollout status ${record.app}\` follows the newer rollout`
      : (recreateHint(record) ??
        `\`baton logs ${record.app} --all\` shows the replicas' output; \`baton history ${record.app}\` every rollout`);
  return new CliError(`rollout.${record.state.replace("-", "_")}`, describeFailure(record), hint);
}
