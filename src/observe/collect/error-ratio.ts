/**
 * `http_error_ratio{app}`: the share of an app's requests answered 5xx over the last minute,
 * from the proxy's cumulative counters — the series the alert example reads
 * (`http_error_ratio{app="api"} > 0.05`), so that rule works as written.
 */
import type { CollectedSample, MetricDeclaration } from "./collected.js";

export const ERROR_RATIO_DECLARATION: MetricDeclaration = {
  name: "http_error_ratio",
  kind: "gauge",
  help: "Share of an app's requests answered 5xx over the last minute (0 without requests).",
  unit: "",
};

const WINDOW_MS = 60_000;

interface Reading {
  readonly at: number;
  readonly total: number;
  readonly errors: number;
}

export class ErrorRatio {
  /** Per app, its readings of the last window (and the one just before it), oldest first. */
  private readonly readings = new Map<string, Reading[]>();

  /** The ratio per app, from this tick's `baton_http_requests_total` samples. */
  observe(samples: readonly CollectedSample[], at: number): CollectedSample[] {
    const now = new Map<string, { total: number; errors: number }>();
    const routeStarts = new Map<string, number>();
    for (const s of samples) {
      if (s.name === "baton_proxy_route_start_time_seconds" && s.labels.app !== undefined) {
        routeStarts.set(s.labels.app, s.value * 1000);
      }
    }
    for (const s of samples) {
      if (s.name !== "baton_http_requests_total") continue;
      const app = s.labels.app;
      if (app === undefined) continue;
      const sums = now.get(app) ?? { total: 0, errors: 0 };
      sums.total += s.value;
      if ((s.labels.code ?? "").startsWith("5")) sums.errors += s.value;
      now.set(app, sums);
    }
    const out: CollectedSample[] = [];
    for (const [app, sums] of now) {
      let list = this.readings.get(app) ?? [];
      const last = list.at(-1);
      // Counters that went down: the proxy (or the route) started again; start over.
      if (last !== undefined && (sums.total < last.total || sums.errors < last.errors)) list = [];
      // Counters count from the route's start: one that started within the window counted
      // from zero then, even if its first requests came before this first reading.
      const started = routeStarts.get(app);
      if (
        list.length === 0 &&
        started !== undefined &&
        started >= at - WINDOW_MS &&
        started <= at
      ) {
        list.push({ at: started, total: 0, errors: 0 });
      }
      list.push({ at, ...sums });
      // Keep the newest reading at or before the window's start: the window's base.
      while (list.length > 1 && (list[1] as Reading).at <= at - WINDOW_MS) list.shift();
      this.readings.set(app, list);
      const base = list[0] as Reading;
      const requests = sums.total - base.total;
      out.push({
        name: ERROR_RATIO_DECLARATION.name,
        labels: { app },
        at,
        value: requests > 0 ? (sums.errors - base.errors) / requests : 0,
      });
    }
    for (const app of this.readings.keys()) if (!now.has(app)) this.readings.delete(app);
    return out;
  }
}
