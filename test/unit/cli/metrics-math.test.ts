import { describe, expect, it } from "vitest";
import {
  histogramQuantile,
  increaseOf,
  ratesOf,
  windowRate,
} from "../../../src/cli/metrics-math.js";
import { parseMatch } from "../../../src/server/metrics-api.js";

describe("counter rates", () => {
  it("reads a drop as a restart from zero", () => {
    const samples: [number, number][] = [
      [0, 10],
      [1_000, 14],
      [2_000, 3],
      [4_000, 7],
    ];
    expect(ratesOf(samples)).toEqual([undefined, 4, 3, 2]);
    expect(increaseOf(samples)).toBe(11);
    expect(windowRate(samples)).toBe(11 / 4);
    expect(windowRate([[0, 1]])).toBeUndefined();
  });
});

describe("histogram quantiles", () => {
  it("interpolates within the bucket, as histogram_quantile does", () => {
    const increases = new Map([
      [0.1, 50],
      [0.5, 90],
      [1, 100],
      [Number.POSITIVE_INFINITY, 100],
    ]);
    expect(histogramQuantile(0.5, increases)).toBeCloseTo(0.1);
    expect(histogramQuantile(0.7, increases)).toBeCloseTo(0.3);
    expect(histogramQuantile(0.95, increases)).toBeCloseTo(0.75);
    expect(histogramQuantile(0.5, new Map([[Number.POSITIVE_INFINITY, 0]]))).toBeUndefined();
  });

  it("answers the last finite bound for what is above it", () => {
    const increases = new Map([
      [0.1, 1],
      [Number.POSITIVE_INFINITY, 10],
    ]);
    expect(histogramQuantile(0.99, increases)).toBe(0.1);
  });
});

describe("label matchers of GET /api/v1/metrics", () => {
  it("reads the four operators and refuses what is none", () => {
    expect(parseMatch("app=api")).toEqual({ label: "app", op: "=", value: "api" });
    expect(parseMatch("code!=200")).toEqual({ label: "code", op: "!=", value: "200" });
    expect(parseMatch("code=~5..")).toEqual({ label: "code", op: "=~", value: "5.." });
    expect(parseMatch("app!~t.*")).toEqual({ label: "app", op: "!~", value: "t.*" });
    expect(() => parseMatch("nonsense")).toThrow(/not a label matcher/);
    expect(() => parseMatch("code=~(")).toThrow(/regular expression|Unterminated/);
  });
});
