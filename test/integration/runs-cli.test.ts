/** `baton runs` reads runs straight from the state, as a user sees them with no controller. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/index.js";
import { baton, ROOT } from "../helpers/cli.js";

const state = mkdtempSync(join(tmpdir(), "baton-runs-"));
afterAll(() => rmSync(state, { recursive: true, force: true }));

describe("baton runs", () => {
  it("lists runs newest first with their steps and the failing tests' names", async () => {
    const store = SqliteStore.open(state, { create: true });
    const steps = [
      { name: "test", kind: "run" as const },
      { name: "image", kind: "build" as const },
    ];
    const first = store.runs.create({
      pipeline: "api",
      branch: "main",
      commit: "1234567890abcdef1234567890abcdef12345678",
      subject: "add the cart",
      trigger: "push",
      createdBy: "hook",
      steps,
    });
    store.runs.setState(first.id, "running");
    store.runs.updateStep(first.id, "test", {
      state: "failed",
      startedAt: Date.now() - 2_000,
      finishedAt: Date.now(),
      detail: "1 of 12 tests failed: cart totals",
      tests: { total: 12, failed: 1, skipped: 0, failures: ["cart totals"] },
    });
    store.runs.updateStep(first.id, "image", { state: "skipped", detail: "test did not pass" });
    store.runs.setState(first.id, "failed", "test failed: 1 of 12 tests failed: cart totals");
    store.runs.create({
      pipeline: "api",
      branch: "main",
      commit: "f".repeat(40),
      trigger: "manual",
      createdBy: "me",
      steps,
    });
    store.close();

    const out = await baton(["runs", "--state", state], { cwd: ROOT });
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stdout.split("\n");
    expect(lines[0]).toMatch(/^#2 api ffffffff queued {2}manual, /);
    expect(out.stdout).toMatch(/^#1 api 12345678 failed {2}push, .* {2}add the cart$/m);
    expect(out.stdout).toMatch(/^ {3}test failed: 1 of 12 tests failed: cart totals$/m);
    expect(out.stdout).toMatch(/^ {3}test +failed +2\.\ds +1 of 12 tests failed: cart totals$/m);
    expect(out.stdout).toMatch(/^ {3}image +skipped +test did not pass$/m);

    const json = JSON.parse(
      (await baton(["runs", "api", "--json", "--state", state], { cwd: ROOT })).stdout,
    ) as {
      runs: { run: { id: number; state: string }; steps: { name: string; tests: unknown }[] }[];
    };
    expect(json.runs.map((r) => `${r.run.id} ${r.run.state}`)).toEqual(["2 queued", "1 failed"]);
    expect(json.runs[1]?.steps[0]?.tests).toEqual({
      total: 12,
      failed: 1,
      skipped: 0,
      failures: ["cart totals"],
    });
  });
});
