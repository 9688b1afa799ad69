import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration, parseSize } from "../../../src/definition/index.js";

describe("parseDuration", () => {
  it.each([
    ["250ms", 250],
    ["10s", 10_000],
    ["1m30s", 90_000],
    ["1h", 3_600_000],
    ["1.5s", 1_500],
    ["0s", 0],
    ["2h15m", 8_100_000],
    ["1m500ms", 60_500],
  ])("reads %s as %i ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["10", "", "s", "10 s", "-1s", "1d", "10sec", "1.s", ".5s", "1m 30s", "10S"])(
    "refuses %j",
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );
});

describe("formatDuration", () => {
  it.each([
    [250, "250ms"],
    [10_000, "10s"],
    [90_000, "1m30s"],
    [3_600_000, "1h"],
    [1_500, "1.5s"],
    [0, "0ms"],
    [3_630_000, "1h30s"],
    [61_001, "1m1.001s"],
  ])("writes %i ms as %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("writes what parseDuration reads back", () => {
    for (const ms of [1, 999, 1000, 1001, 59_999, 60_000, 86_400_000, 123_456_789]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});

describe("parseSize", () => {
  it.each([
    ["512", 512],
    ["10k", 10_000],
    ["10K", 10_000],
    ["10Ki", 10_240],
    ["10M", 10_000_000],
    ["10m", 10_000_000],
    ["10Mi", 10_485_760],
    ["10MiB", 10_485_760],
    ["10MB", 10_000_000],
    ["1G", 1_000_000_000],
    ["1Gi", 1_073_741_824],
    ["1.5Ki", 1_536],
    ["1 Gi", 1_073_741_824],
  ])("reads %s as %i bytes", (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(["", "M", "10 mb", "10KI", "-1k", "10Mx", "ten"])("refuses %j", (text) => {
    expect(parseSize(text)).toBeUndefined();
  });
});
