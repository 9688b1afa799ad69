import { describe, expect, it } from "vitest";
import { WorkQueue } from "../../../src/controller/work-queue.js";
import { eventually } from "../../helpers/wait.js";

describe("the work queue", () => {
  it("never runs one key twice at once, and runs it again when added meanwhile", async () => {
    let running = 0;
    let maxRunning = 0;
    const runs: string[] = [];
    let release: () => void = () => {};
    const queue = new WorkQueue(
      async (key) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        runs.push(key);
        if (runs.length === 1) await new Promise<void>((r) => (release = r));
        running -= 1;
      },
      () => {},
    );
    queue.add("a");
    await Promise.resolve();
    queue.add("a");
    queue.add("a");
    queue.add("a");
    release();
    await queue.idle();
    expect(runs).toEqual(["a", "a"]);
    expect(maxRunning).toBe(1);
  });

  it("runs different keys concurrently and reports failures without stopping", async () => {
    const errors: string[] = [];
    const done: string[] = [];
    const queue = new WorkQueue(
      async (key) => {
        if (key === "bad") throw new Error("boom");
        done.push(key);
      },
      (key, error) => errors.push(`${key}: ${(error as Error).message}`),
    );
    queue.add("x");
    queue.add("bad");
    queue.add("y");
    await queue.idle();
    queue.close();
    expect(done.sort()).toEqual(["x", "y"]);
    expect(errors).toEqual(["bad: boom"]);
  });

  it("tries a failed key again, waiting longer after each failure in a row", async () => {
    const attempts: number[] = [];
    const t0 = Date.now();
    const queue = new WorkQueue(
      async () => {
        attempts.push(Date.now() - t0);
        if (attempts.length < 4) throw new Error("not yet");
      },
      () => {},
    );
    queue.add("k");
    await eventually(
      "the fourth attempt succeeded",
      () => attempts.length,
      (n) => n === 4,
      5_000,
    );
    queue.close();
    const gaps = attempts.slice(1).map((at, i) => at - (attempts[i] ?? 0));
    // 100, 200, 400 ms: each gap at least its backoff, and each longer than the last.
    expect(gaps[0]).toBeGreaterThanOrEqual(90);
    expect(gaps[1]).toBeGreaterThan(gaps[0] ?? 0);
    expect(gaps[2]).toBeGreaterThan(gaps[1] ?? 0);
  });

  it("keeps the earliest of several delayed additions of a key", async () => {
    const runs: number[] = [];
    const t0 = Date.now();
    const queue = new WorkQueue(
      async () => void runs.push(Date.now() - t0),
      () => {},
    );
    queue.addAfter("k", 5_000);
    queue.addAfter("k", 20);
    queue.addAfter("k", 3_000);
    await eventually(
      "the key ran",
      () => runs.length,
      (n) => n === 1,
      2_000,
    );
    queue.close();
    expect(runs[0]).toBeLessThan(1_000);
  });
});
