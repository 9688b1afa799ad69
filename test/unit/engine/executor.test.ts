import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  buildPlan,
  type Change,
  execute,
  type Plan,
  type PlanStep,
  type StepEvent,
} from "../../../src/engine/index.js";
import { change } from "./fixtures.js";

function deferred(): { promise: Promise<void>; resolve(): void; reject(e: unknown): void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function independent(n: number): Change[] {
  return Array.from({ length: n }, (_, i) => change("create", `s${i}`));
}

describe("execute", () => {
  it("never runs more than `parallelism` steps at once, and uses all of them", async () => {
    let current = 0;
    let max = 0;
    const result = await execute(
      buildPlan(independent(12)),
      async (step) => {
        current += 1;
        max = Math.max(max, current);
        // Real asynchronous work of uneven length, so steps finish out of order.
        await sleep(1 + (step.id.length % 3) * 3);
        await Promise.resolve();
        current -= 1;
      },
      { parallelism: 3 },
    );
    expect(max).toBe(3);
    expect(result.ok).toBe(true);
    expect(Object.values(result.steps).every((s) => s.status === "done")).toBe(true);
  });

  it("starts a step only once every step it comes after is done", async () => {
    const plan = buildPlan([
      change("create", "web", ["api", "cache"]),
      change("create", "api", ["db"]),
      change("create", "cache"),
      change("create", "db"),
    ]);
    const log: string[] = [];
    const result = await execute(
      plan,
      async (step) => {
        log.push(`start ${step.id}`);
        await sleep(step.id === "app/cache" ? 15 : 2);
        log.push(`end ${step.id}`);
      },
      { parallelism: 4 },
    );
    expect(result.ok).toBe(true);
    for (const step of plan.steps) {
      for (const dep of step.after) {
        expect(log.indexOf(`end ${dep}`)).toBeLessThan(log.indexOf(`start ${step.id}`));
      }
    }
    // Independent roots start together.
    expect(log.slice(0, 2)).toEqual(["start app/cache", "start app/db"]);
  });

  it("skips what depends on a failed step and finishes everything else", async () => {
    const plan = buildPlan([
      change("create", "db"),
      change("create", "api", ["db"]),
      change("create", "web", ["api"]),
      change("create", "cache"),
    ]);
    const boom = new Error("db would not start");
    const events: StepEvent[] = [];
    const ran: string[] = [];
    const result = await execute(
      plan,
      async (step) => {
        ran.push(step.id);
        await sleep(1);
        if (step.id === "app/db") throw boom;
      },
      { parallelism: 2, onProgress: (e) => events.push(e), now: () => 0 },
    );
    expect(ran.sort()).toEqual(["app/cache", "app/db"]);
    expect(result).toEqual({
      ok: false,
      steps: {
        "app/db": { status: "failed", error: boom, durationMs: 0 },
        "app/api": {
          status: "skipped",
          reason: "depends on app/db, which failed",
          durationMs: 0,
        },
        "app/web": {
          status: "skipped",
          reason: "depends on app/db, which failed",
          durationMs: 0,
        },
        "app/cache": { status: "done", durationMs: 0 },
      },
    });
    expect(events.filter((e) => e.status !== "started" && e.status !== "done")).toEqual([
      { step: "app/db", status: "failed", error: boom },
      { step: "app/api", status: "skipped", reason: "depends on app/db, which failed" },
      { step: "app/web", status: "skipped", reason: "depends on app/db, which failed" },
    ]);
  });

  it("fails only the step whose runner throws synchronously", async () => {
    const plan = buildPlan([change("create", "a"), change("create", "b")]);
    const result = await execute(
      plan,
      (step) => {
        if (step.id === "app/a") throw new Error("sync");
        return Promise.resolve();
      },
      { parallelism: 1 },
    );
    expect(result.steps["app/a"]?.status).toBe("failed");
    expect(result.steps["app/b"]?.status).toBe("done");
  });

  it("starts nothing new once aborted, lets running steps end, and skips the rest", async () => {
    const plan = buildPlan([
      change("create", "a"),
      change("create", "b"),
      change("create", "c"),
      change("create", "d", ["a"]),
    ]);
    const controller = new AbortController();
    const started = deferred();
    const release = deferred();
    const seen: { id: string; aborted: boolean }[] = [];
    const execution = execute(
      plan,
      async (step, signal) => {
        if (step.id === "app/b") started.resolve();
        await release.promise;
        seen.push({ id: step.id, aborted: signal.aborted });
      },
      { parallelism: 2, signal: controller.signal },
    );
    await started.promise;
    controller.abort();
    release.resolve();
    const result = await execution;

    expect(seen).toEqual([
      { id: "app/a", aborted: true },
      { id: "app/b", aborted: true },
    ]);
    expect(result.ok).toBe(false);
    expect(Object.fromEntries(Object.entries(result.steps).map(([k, v]) => [k, v.status]))).toEqual(
      {
        "app/a": "done",
        "app/b": "done",
        "app/c": "skipped",
        "app/d": "skipped",
      },
    );
    expect(result.steps["app/c"]?.reason).toBe("aborted before it started");
  });

  it("runs nothing when the signal is already aborted", async () => {
    let calls = 0;
    const result = await execute(
      buildPlan(independent(3)),
      async () => {
        calls += 1;
      },
      { parallelism: 2, signal: AbortSignal.abort() },
    );
    expect(calls).toBe(0);
    expect(result.ok).toBe(false);
  });

  it("completes unchanged steps at once without calling the runner", async () => {
    const plan = buildPlan([change("unchanged", "db"), change("create", "web", ["db"])]);
    const ran: string[] = [];
    const events: StepEvent[] = [];
    const result = await execute(
      plan,
      async (step: PlanStep) => {
        ran.push(step.id);
      },
      { parallelism: 1, onProgress: (e) => events.push(e) },
    );
    expect(ran).toEqual(["app/web"]);
    expect(result.ok).toBe(true);
    expect(result.steps["app/db"]).toEqual({ status: "done", durationMs: 0 });
    expect(events.map((e) => `${e.status} ${e.step}`)).toEqual(["started app/web", "done app/web"]);
  });

  it("resolves at once for a plan with no work", async () => {
    const result = await execute(buildPlan([]), async () => {}, { parallelism: 1 });
    expect(result).toEqual({ ok: true, steps: {} });
  });

  it("rejects a parallelism that is not a whole number of at least 1", async () => {
    for (const parallelism of [0, -1, 1.5, Number.NaN]) {
      await expect(execute(buildPlan([]), async () => {}, { parallelism })).rejects.toThrow(
        `parallelism must be a whole number ≥ 1, got ${parallelism}`,
      );
    }
    await expect(
      execute(buildPlan([]), async () => {}, { parallelism: Infinity }),
    ).resolves.toEqual({ ok: true, steps: {} });
  });

  it("rejects a hand-made plan that could never finish", async () => {
    const a = change("create", "a");
    const b = change("create", "b");
    const cyclic: Plan = {
      steps: [
        { id: "app/a", change: a, after: ["app/b"] },
        { id: "app/b", change: b, after: ["app/a"] },
      ],
    };
    await expect(execute(cyclic, async () => {}, { parallelism: 1 })).rejects.toThrow(
      expect.objectContaining({
        code: "engine.cycle",
        message: "plan steps wait on each other: app/a → app/b → app/a",
      }),
    );
    const dangling: Plan = { steps: [{ id: "app/a", change: a, after: ["app/zz"] }] };
    await expect(execute(dangling, async () => {}, { parallelism: 1 })).rejects.toThrow(
      "plan step app/a comes after app/zz, which is not in the plan",
    );
  });

  it("rejects with the error of an onProgress that throws, after running steps end", async () => {
    const plan = buildPlan(independent(3));
    let ended = 0;
    const failure = new Error("printer broke");
    await expect(
      execute(
        plan,
        async () => {
          await sleep(1);
          ended += 1;
        },
        {
          parallelism: 2,
          onProgress: (e) => {
            if (e.status === "done") throw failure;
          },
        },
      ),
    ).rejects.toBe(failure);
    // The two running when it threw finished; the third never started.
    expect(ended).toBe(2);
  });
});
