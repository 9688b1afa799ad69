import type { PipelineSource } from "../../definition/pipeline-model.js";
import { realTimers, type Timers } from "../timers.js";
import { type BranchHead, type ResolveOptions, resolveBranch } from "./resolve-branch.js";

export interface BranchMoved {
  /** The watch's id (the pipeline's name, say). */
  readonly id: string;
  readonly source: PipelineSource;
  readonly head: BranchHead;
  /** The commit seen before; undefined for a head reported at start. */
  readonly previous: string | undefined;
}

export interface BranchPollerOptions {
  readonly mirrorRoot: string;
  /** Called when a watched branch's head moved. If it throws, the move is reported again next time. */
  readonly onCommit: (moved: BranchMoved) => void | Promise<void>;
  /** A resolve that failed (the poll is tried again next tick) or an onCommit that threw. */
  readonly onError: (id: string, source: PipelineSource, error: unknown) => void;
  readonly timers?: Timers;
  readonly resolve?: ResolveOptions;
}

export interface WatchOptions {
  /** How often to resolve the branch. */
  readonly pollMs: number;
  /**
   * The commit last run (from the store, after a restart): a head other than it is reported by
   * the first poll. Without it the first poll only learns the head, unless `reportAtStart`.
   */
  readonly lastSeen?: string;
  readonly reportAtStart?: boolean;
}

interface Watch {
  readonly id: string;
  readonly source: PipelineSource;
  readonly options: WatchOptions;
  seen: string | undefined;
  known: boolean;
  timer: unknown;
  inFlight: Promise<void> | undefined;
  stopped: boolean;
}

/**
 * Resolves watched branches every `pollMs` and reports heads that moved: the fallback for
 * pushes no hook reported, and (through `pollNow`) what a hook's notification triggers, so
 * that both paths report each commit once. One resolve at a time per watch; a failed one is
 * reported and tried again at the next tick.
 */
export class BranchPoller {
  private readonly watches = new Map<string, Watch>();
  private readonly timers: Timers;

  constructor(private readonly options: BranchPollerOptions) {
    this.timers = options.timers ?? realTimers;
  }

  /** Starts (or restarts, with new options) watching `source` under `id`; the first poll is now. */
  watch(id: string, source: PipelineSource, options: WatchOptions): void {
    if (!(options.pollMs > 0)) throw new Error(`poll interval of '${id}' must be > 0 ms`);
    const previous = this.watches.get(id);
    const sameSource =
      previous !== undefined &&
      previous.source.repo === source.repo &&
      previous.source.branch === source.branch;
    this.stopWatch(previous);
    const watch: Watch = {
      id,
      source,
      options,
      seen: sameSource ? previous.seen : options.lastSeen,
      known: sameSource ? previous.known : options.lastSeen !== undefined,
      timer: undefined,
      inFlight: undefined,
      stopped: false,
    };
    this.watches.set(id, watch);
    this.schedule(watch, 0);
  }

  unwatch(id: string): void {
    this.stopWatch(this.watches.get(id));
    this.watches.delete(id);
  }

  watching(): string[] {
    return [...this.watches.keys()];
  }

  /**
   * Polls `id` now (a hook said its repository moved) and resolves when that poll is done;
   * joins the poll under way if there is one. Returns the head seen, if the resolve worked.
   */
  async pollNow(id: string): Promise<BranchHead | undefined> {
    const watch = this.watches.get(id);
    if (watch === undefined || watch.stopped) return undefined;
    // Callers that arrive together wait their turn: still one resolve at a time.
    while (watch.inFlight !== undefined) await watch.inFlight;
    if (watch.stopped) return undefined;
    this.timers.clearTimeout(watch.timer);
    watch.timer = undefined;
    return this.poll(watch);
  }

  /** Stops every watch and waits for the resolves under way (their results are dropped). */
  async stop(): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const watch of this.watches.values()) {
      this.stopWatch(watch);
      if (watch.inFlight !== undefined) pending.push(watch.inFlight);
    }
    this.watches.clear();
    await Promise.all(pending);
  }

  private stopWatch(watch: Watch | undefined): void {
    if (watch === undefined) return;
    watch.stopped = true;
    this.timers.clearTimeout(watch.timer);
    watch.timer = undefined;
  }

  private schedule(watch: Watch, ms: number): void {
    if (watch.stopped) return;
    watch.timer = this.timers.setTimeout(() => {
      watch.timer = undefined;
      void this.poll(watch);
    }, ms);
  }

  private async poll(watch: Watch): Promise<BranchHead | undefined> {
    let head: BranchHead | undefined;
    const run = (async () => {
      try {
        head = await resolveBranch(watch.source, this.options.mirrorRoot, this.options.resolve);
      } catch (error) {
        if (!watch.stopped) this.options.onError(watch.id, watch.source, error);
        return;
      }
      if (watch.stopped) return;
      const moved = watch.known ? head.commit !== watch.seen : watch.options.reportAtStart === true;
      if (!moved) {
        watch.seen = head.commit;
        watch.known = true;
        return;
      }
      try {
        await this.options.onCommit({
          id: watch.id,
          source: watch.source,
          head,
          previous: watch.known ? watch.seen : undefined,
        });
        watch.seen = head.commit;
        watch.known = true;
      } catch (error) {
        this.options.onError(watch.id, watch.source, error);
      }
    })();
    watch.inFlight = run;
    try {
      await run;
    } finally {
      watch.inFlight = undefined;
      if (watch.timer === undefined) this.schedule(watch, watch.options.pollMs);
    }
    return head;
  }
}
