import { parseDuration } from "../definition/index.js";
import { DEFAULT_BACKOFF } from "../observe/notify/backoff.js";
import type { DeliveryOptions } from "../observe/notify/delivery-queue.js";
import { ControllerError } from "./errors.js";

export type NotifyRetry = Pick<DeliveryOptions, "maxAttempts" | "backoff">;

/**
 * How the alert notifications are retried, from BATON_NOTIFY_ATTEMPTS (tries per batch) and
 * BATON_NOTIFY_BACKOFF (the wait after the first failure, doubling from there); undefined
 * when neither is set. For tests and impatient setups: the defaults (8 tries from 1s) take a
 * minute or two to give a batch up.
 */
export function notifyRetryFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): NotifyRetry | undefined {
  const attemptsText = env.BATON_NOTIFY_ATTEMPTS?.trim() ?? "";
  const backoffText = env.BATON_NOTIFY_BACKOFF?.trim() ?? "";
  if (attemptsText === "" && backoffText === "") return undefined;
  const retry: { maxAttempts?: number; backoff?: NotifyRetry["backoff"] } = {};
  if (attemptsText !== "") {
    const attempts = /^\d+$/.test(attemptsText) ? Number(attemptsText) : Number.NaN;
    if (!(attempts >= 1)) {
      throw new ControllerError(
        "controller.invalid_notify_retry",
        `BATON_NOTIFY_ATTEMPTS=${JSON.stringify(attemptsText)} is not a number of tries`,
        "give a whole number of 1 or more (1 = no retry); unset it for 8",
      );
    }
    retry.maxAttempts = attempts;
  }
  if (backoffText !== "") {
    const baseMs = parseDuration(backoffText);
    if (baseMs === undefined) {
      throw new ControllerError(
        "controller.invalid_notify_retry",
        `BATON_NOTIFY_BACKOFF=${JSON.stringify(backoffText)} is not a duration`,
        'give the wait after the first failure, e.g. "100ms" or "2s"; unset it for 1s',
      );
    }
    retry.backoff = { baseMs, maxMs: Math.max(baseMs, DEFAULT_BACKOFF.maxMs) };
  }
  return retry;
}
