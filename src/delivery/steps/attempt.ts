import { writeSync } from "node:fs";
import type { SecretMasker } from "./secret-mask.js";

/** Where a command's output goes: the step's log (capped in size, see capped-log.ts). */
export interface StepOutput {
  write(chunk: Buffer): void;
}

/** How one attempt of a command ended. */
export type AttemptEnd =
  | { readonly kind: "exited"; readonly exitCode: number }
  | { readonly kind: "killed"; readonly reason: "timed-out" | "cancelled" }
  /** It could not start (an image that is missing, an engine that does not answer). */
  | { readonly kind: "not-started"; readonly message: string };

/**
 * What an attempt started, for the caller to record: after a controller restart,
 * `stopLeftover` ends it, so an interrupted run leaves nothing running.
 */
export type StartedCommand =
  | { readonly kind: "process"; readonly pgid: number; readonly startTicks: number }
  | { readonly kind: "container"; readonly name: string };

export interface AttemptRequest {
  readonly stepName: string;
  readonly command: string;
  readonly checkout: string;
  /** The complete environment the command sees. */
  readonly env: Readonly<Record<string, string>>;
  /** The step's log. */
  readonly log: StepOutput;
  /** Masks the step's secrets in its output; absent, the output goes to the log as it is. */
  readonly mask?: SecretMasker | undefined;
  /** 0: no limit. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly killGraceMs: number;
  readonly onStarted?: ((started: StartedCommand) => void) | undefined;
  /** The user a host command runs as (the controller switches to it); the controller's own when absent. */
  readonly runAs?: { readonly uid: number; readonly gid: number } | undefined;
}

/** setTimeout fires at once beyond this (about 24.8 days): longer means no limit. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Resolves when the timeout passes or the signal aborts, whichever first; `stop()` drops
 * both once the command has ended on its own.
 */
export function killTrigger(
  timeoutMs: number,
  signal: AbortSignal,
): { readonly fired: Promise<"timed-out" | "cancelled">; stop(): void } {
  let stop = (): void => {};
  const fired = new Promise<"timed-out" | "cancelled">((resolve) => {
    const onAbort = (): void => resolve("cancelled");
    const timer =
      timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS
        ? setTimeout(() => resolve("timed-out"), timeoutMs)
        : undefined;
    if (signal.aborted) resolve("cancelled");
    else signal.addEventListener("abort", onAbort, { once: true });
    stop = () => {
      if (timer) clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    };
  });
  return { fired, stop };
}

/** Writes all of `data` (writeSync may write less than asked). */
export function writeAll(fd: number, data: Buffer): void {
  let written = 0;
  while (written < data.length) written += writeSync(fd, data, written);
}
