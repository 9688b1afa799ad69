import type { Labels } from "../observe/series.js";
import type { EventRecord } from "../store/index.js";

/** That a built-in rule's condition now holds (raise) or no longer holds (clear) for labels. */
export interface AlertSignal {
  readonly action: "raise" | "clear";
  readonly rule: string;
  readonly labels: Labels;
  /** Clear every alert of the rule whose labels include these (e.g. all drift of one host). */
  readonly partial?: boolean;
}

/**
 * What an event of the controller says about the built-in rules. Crash loops and readiness
 * come from the apps' status instead (alert-service.ts): an exit alone does not say when the
 * loop is over.
 */
export function alertSignalsOf(event: EventRecord): AlertSignal[] {
  const data = event.data ?? {};
  const text = (key: string): string | undefined =>
    typeof data[key] === "string" ? (data[key] as string) : undefined;
  const app = event.app ?? undefined;
  switch (event.type) {
    case "rollout.failed":
    case "rollout.rolled_back":
      return app === undefined
        ? []
        : [{ action: "raise", rule: "rollout-failed", labels: { app } }];
    case "rollout.rolled_out":
      return app === undefined
        ? []
        : [{ action: "clear", rule: "rollout-failed", labels: { app } }];
    case "run.failed": {
      const pipeline = text("pipeline");
      return pipeline === undefined
        ? []
        : [{ action: "raise", rule: "pipeline-failed", labels: { pipeline } }];
    }
    case "run.passed": {
      const pipeline = text("pipeline");
      return pipeline === undefined
        ? []
        : [{ action: "clear", rule: "pipeline-failed", labels: { pipeline } }];
    }
    case "host.unreachable": {
      const host = text("host");
      return host === undefined
        ? []
        : [{ action: "raise", rule: "host-unreachable", labels: { host } }];
    }
    case "host.drift": {
      const host = text("host");
      if (host === undefined) return [];
      const resource = `${text("module") ?? "resource"} ${text("id") ?? ""}`.trim();
      return [
        { action: "clear", rule: "host-unreachable", labels: { host } },
        { action: "raise", rule: "drift", labels: { host, resource } },
      ];
    }
    case "host.healed":
    case "host.applied": {
      const host = text("host");
      if (host === undefined) return [];
      // The host was reached, and what differed was put back.
      return [
        { action: "clear", rule: "host-unreachable", labels: { host } },
        { action: "clear", rule: "drift", labels: { host }, partial: true },
      ];
    }
    case "notifier.failed": {
      const receiver = text("receiver");
      return receiver === undefined
        ? []
        : [{ action: "raise", rule: "notifier-failing", labels: { receiver } }];
    }
    default:
      return [];
  }
}
