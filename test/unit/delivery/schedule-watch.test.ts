import { describe, expect, it } from "vitest";
import { type ScheduleFire, ScheduleWatch } from "../../../src/delivery/index.js";
import { ManualTimers } from "./manual-timers.js";

const start = Date.parse("2026-03-02T10:07:00Z");
const at = (iso: string) => Date.parse(iso);

function watchWith(timers: ManualTimers) {
  const fires: ScheduleFire[] = [];
  const errors: unknown[] = [];
  const watch = new ScheduleWatch({
    timezone: "UTC",
    timers,
    onFire: (fire) => {
      fires.push(fire);
    },
    onError: (_pipeline, error) => {
      errors.push(error);
    },
  });
  return { watch, fires, errors };
}

describe("ScheduleWatch", () => {
  it("fires each pipeline at its times", () => {
    const timers = new ManualTimers(start);
    const { watch, fires } = watchWith(timers);
    watch.set("nightly", ["0 3 * * *"]);
    watch.set("often", ["*/20 * * * *"]);
    expect(watch.nextFires("nightly").map((d) => d.toISOString())).toEqual([
      "2026-03-03T03:00:00.000Z",
    ]);
    timers.advanceTo(at("2026-03-02T11:00:00Z"));
    expect(fires.map((f) => `${f.pipeline} ${f.at.toISOString()}`)).toEqual([
      "often 2026-03-02T10:20:00.000Z",
      "often 2026-03-02T10:40:00.000Z",
      "often 2026-03-02T11:00:00.000Z",
    ]);
    fires.length = 0;
    watch.remove("often");
    timers.advanceTo(at("2026-03-03T03:00:00Z"));
    expect(fires.map((f) => `${f.pipeline} ${f.cron} ${f.at.toISOString()}`)).toEqual([
      "nightly 0 3 * * * 2026-03-03T03:00:00.000Z",
    ]);
    watch.stop();
    expect(timers.count).toBe(0);
  });

  it("fires once when two of a pipeline's expressions are due together", () => {
    const timers = new ManualTimers(start);
    const { watch, fires } = watchWith(timers);
    watch.set("api", ["0 * * * *", "0 12 * * *"]);
    timers.advanceTo(at("2026-03-02T12:00:00Z"));
    expect(fires.map((f) => f.at.toISOString())).toEqual([
      "2026-03-02T11:00:00.000Z",
      "2026-03-02T12:00:00.000Z",
    ]);
  });

  it("fires once after a stall, not once per missed time", () => {
    const timers = new ManualTimers(start);
    const { watch, fires } = watchWith(timers);
    watch.set("api", ["*/10 * * * *"]);
    timers.jumpTo(at("2026-03-02T15:03:00Z"));
    expect(fires.map((f) => f.at.toISOString())).toEqual(["2026-03-02T10:10:00.000Z"]);
    expect(watch.nextFires("api").map((d) => d.toISOString())).toEqual([
      "2026-03-02T15:10:00.000Z",
    ]);
  });

  it("waits in steps Node can time for a schedule months away", () => {
    const timers = new ManualTimers(start);
    const { watch, fires } = watchWith(timers);
    watch.set("yearly", ["0 0 1 JAN *"]);
    expect(Math.max(...timers.waits)).toBeLessThanOrEqual(2 ** 31 - 1);
    timers.advanceTo(at("2027-01-01T00:00:00Z"));
    expect(fires.map((f) => f.at.toISOString())).toEqual(["2027-01-01T00:00:00.000Z"]);
  });

  it("keeps a pipeline's schedules when new ones are invalid, and reports a failing onFire", async () => {
    const timers = new ManualTimers(start);
    const errors: unknown[] = [];
    const watch = new ScheduleWatch({
      timezone: "UTC",
      timers,
      onFire: () => Promise.reject(new Error("store is busy")),
      onError: (_pipeline, error) => {
        errors.push(error);
      },
    });
    watch.set("api", ["0 * * * *"]);
    expect(() => watch.set("api", ["0 * * *"])).toThrow(/has 4 fields/);
    expect(watch.nextFires("api")).toHaveLength(1);
    timers.advanceTo(at("2026-03-02T11:00:00Z"));
    await Promise.resolve();
    await Promise.resolve();
    expect(errors.map(String)).toEqual(["Error: store is busy"]);
  });
});
