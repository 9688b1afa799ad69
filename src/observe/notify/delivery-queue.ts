import { realTimers, type Timers } from "../../delivery/timers.js";
import type { Notification } from "../alerts/types.js";
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from "./backoff.js";
import { type Notifier, NotifierError } from "./notifier.js";

export interface DeliveryOptions {
  /** Batches waiting per receiver (besides the one being tried); beyond it the oldest goes. */
  readonly capacity?: number;
  /** Tries per batch before it is given up and reported. */
  readonly maxAttempts?: number;
  readonly backoff?: BackoffPolicy;
  readonly timers?: Timers;
  /** In [0, 1); the jitter's source. */
  readonly random?: () => number;
  /**
   * A batch given up after `attempts` tries (or a failure retrying cannot fix). The callbacks
   * run inside the queue's own continuations: one that throws is ignored, it cannot stop it.
   */
  readonly onFailure?: (receiver: string, error: Error, attempts: number) => void;
  /** A batch that was never delivered, and why. */
  readonly onDrop?: (receiver: string, batch: Notification, reason: string) => void;
  readonly onDelivered?: (receiver: string, batch: Notification, attempts: number) => void;
  /**
   * The first failed attempt of a receiver's failure streak, when it will be tried again: an
   * early word that it is failing, once per streak (the next delivery ends it), not per retry.
   */
  readonly onRetrying?: (receiver: string, error: Error, retry: RetryPlan) => void;
}

/** The try that just failed and the one that follows. */
export interface RetryPlan {
  /** Counting from 1 within the batch. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** Until the next try. */
  readonly delayMs: number;
}

interface Attempted {
  readonly batch: Notification;
  failures: number;
}

interface Lane {
  readonly notifier: Notifier;
  readonly waiting: Notification[];
  current: Attempted | undefined;
  retryTimer: unknown;
  /** Whether an attempt failed since the last delivery (a streak is reported only once). */
  failing: boolean;
}

/**
 * Delivers batches to notifiers without ever making the caller wait: `send` queues and
 * returns. Each receiver has its own lane, so a dead receiver delays nobody else; within a lane
 * batches go in order, each retried with capped, jittered exponential backoff.
 */
export class DeliveryQueue {
  private readonly lanes = new Map<string, Lane>();
  private readonly capacity: number;
  private readonly maxAttempts: number;
  private readonly backoff: BackoffPolicy;
  private readonly timers: Timers;
  private readonly random: () => number;
  private stopped = false;

  constructor(
    notifiers: Iterable<Notifier>,
    private readonly options: DeliveryOptions = {},
  ) {
    for (const notifier of notifiers) {
      this.lanes.set(notifier.receiver, {
        notifier,
        waiting: [],
        current: undefined,
        retryTimer: undefined,
        failing: false,
      });
    }
    this.capacity = Math.max(1, options.capacity ?? 100);
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 8);
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.timers = options.timers ?? realTimers;
    this.random = options.random ?? Math.random;
  }

  /** Queues the batch for its receiver and returns at once. */
  send(batch: Notification): Promise<void> {
    this.enqueue(batch);
    return Promise.resolve();
  }

  enqueue(batch: Notification): void {
    const lane = this.lanes.get(batch.receiver);
    if (lane === undefined) {
      const known = [...this.lanes.keys()].sort().join(", ") || "none";
      this.drop(
        batch.receiver,
        batch,
        `no notifier named "${batch.receiver}" (defined: ${known}); add it under notifiers:`,
      );
      return;
    }
    if (this.stopped) {
      this.drop(batch.receiver, batch, "the delivery queue is stopped");
      return;
    }
    lane.waiting.push(batch);
    while (lane.waiting.length > this.capacity) {
      const oldest = lane.waiting.shift() as Notification;
      this.drop(
        batch.receiver,
        oldest,
        `queue full (${this.capacity} batches waiting for ${lane.notifier.target}); dropped the oldest`,
      );
    }
    this.pump(lane);
  }

  /** Batches not yet delivered, the ones being tried included. */
  pending(receiver?: string): number {
    let n = 0;
    for (const [name, lane] of this.lanes) {
      if (receiver === undefined || name === receiver) {
        n += lane.waiting.length + (lane.current === undefined ? 0 : 1);
      }
    }
    return n;
  }

  /** Cancels retries; what is queued is dropped (and reported), a send in flight finishes. */
  stop(): void {
    this.stopped = true;
    for (const [receiver, lane] of this.lanes) {
      if (lane.retryTimer !== undefined) this.timers.clearTimeout(lane.retryTimer);
      lane.retryTimer = undefined;
      const unsent = [...(lane.current === undefined ? [] : [lane.current.batch]), ...lane.waiting];
      lane.waiting.length = 0;
      lane.current = undefined;
      for (const batch of unsent) this.drop(receiver, batch, "the delivery queue stopped");
    }
  }

  private pump(lane: Lane): void {
    if (this.stopped || lane.current !== undefined) return;
    const batch = lane.waiting.shift();
    if (batch === undefined) return;
    lane.current = { batch, failures: 0 };
    this.attempt(lane, lane.current);
  }

  private attempt(lane: Lane, item: Attempted): void {
    const receiver = lane.notifier.receiver;
    // A notifier that throws synchronously is treated like one that rejects.
    Promise.resolve()
      .then(() => lane.notifier.send(item.batch))
      .then(
        () => {
          if (lane.current !== item) return;
          lane.current = undefined;
          lane.failing = false;
          guarded(() => this.options.onDelivered?.(receiver, item.batch, item.failures + 1));
          this.pump(lane);
        },
        (cause: unknown) => {
          if (lane.current !== item) return;
          item.failures += 1;
          const error =
            cause instanceof Error
              ? cause
              : new NotifierError(receiver, lane.notifier.target, String(cause));
          const retryable = !(error instanceof NotifierError) || error.retryable;
          const streakStarts = !lane.failing;
          lane.failing = true;
          if (!retryable || item.failures >= this.maxAttempts) {
            lane.current = undefined;
            guarded(() => this.options.onFailure?.(receiver, error, item.failures));
            this.drop(
              receiver,
              item.batch,
              `gave up after ${item.failures} attempts: ${error.message}`,
            );
            this.pump(lane);
            return;
          }
          const delay = backoffDelay(item.failures, this.backoff, this.random);
          if (streakStarts) {
            const plan = { attempt: item.failures, maxAttempts: this.maxAttempts, delayMs: delay };
            guarded(() => this.options.onRetrying?.(receiver, error, plan));
          }
          lane.retryTimer = this.timers.setTimeout(() => {
            lane.retryTimer = undefined;
            if (!this.stopped && lane.current === item) this.attempt(lane, item);
          }, delay);
        },
      );
  }

  private drop(receiver: string, batch: Notification, reason: string): void {
    guarded(() => this.options.onDrop?.(receiver, batch, reason));
  }
}

/** A caller's callback throwing must not become an unhandled rejection in the controller. */
function guarded(callback: () => void): void {
  try {
    callback();
  } catch {
    // Deliberately ignored: reporting is the callback's job, and it just failed at it.
  }
}
