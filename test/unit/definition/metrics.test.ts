import { describe, expect, it } from "vitest";
import { type Diagnostic, parseDefinition, SpecError } from "../../../src/definition/index.js";

function refused(text: string): readonly Diagnostic[] {
  try {
    parseDefinition(text, "baton.yaml");
  } catch (error) {
    if (error instanceof SpecError) return error.diagnostics;
    throw error;
  }
  throw new Error("expected the definition to be refused");
}

describe("metrics in a definition", () => {
  it("defaults to sampling every second, hosts every 15 s, raw 24 h and aggregates 30 days", () => {
    expect(parseDefinition("apps: {}\n", "baton.yaml").metrics).toEqual({
      intervalMs: 1_000,
      hostIntervalMs: 15_000,
      retention: { rawMs: 86_400_000, aggregatesMs: 2_592_000_000 },
    });
    const set = parseDefinition(
      "metrics: { interval: 0s, hostInterval: 1m, retention: { raw: 6h, aggregated: 168h } }\n",
      "baton.yaml",
    );
    expect(set.metrics).toEqual({
      intervalMs: 0,
      hostIntervalMs: 60_000,
      retention: { rawMs: 21_600_000, aggregatesMs: 604_800_000 },
    });
  });

  it("refuses aggregates kept shorter than raw samples, and sampling too fast, at their line", () => {
    const found = refused(
      [
        "metrics:",
        "  interval: 10ms",
        "  retention:",
        "    raw: 48h",
        "    aggregated: 24h",
        "",
      ].join("\n"),
    );
    expect(found.map((d) => `${d.line}:${d.col}:${d.code}`)).toEqual([
      "2:13:spec.metrics_interval",
      "5:17:spec.metrics_retention",
    ]);
    expect(found[1]?.hint).toBe(
      "keep aggregates at least as long as raw samples, e.g. raw: 24h, aggregated: 720h",
    );
  });
});
