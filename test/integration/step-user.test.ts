/**
 * Who a host step runs as (security/sandbox): with a root controller, the baton-step system
 * user (created on first use) or the step's `user:`, in a run folder it owns while it runs,
 * outside the state directory, its artifacts kept for the controller only; a user that does not exist
 * fails the step with the fix. A controller that is not root runs the step as itself and says
 * in the step's log that it is not sandboxed, and refuses a `user:` it cannot honour.
 */
import { execFileSync } from "node:child_process";
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RunStep } from "../../src/definition/pipeline-model.js";
import { runStep } from "../../src/delivery/steps/run-step.js";
import type { StepContext } from "../../src/delivery/steps/step-types.js";
import {
  prepareWorkspaces,
  runWorkspace,
  stateWorkspaces,
} from "../../src/security/sandbox/index.js";
import { ROOT } from "../helpers/cli.js";

const temp = mkdtempSync(join(tmpdir(), "baton-step-user-"));
const stateDir = join(temp, "state");
const cleanups: string[] = [];
afterAll(() => {
  rmSync(stateWorkspaces(stateDir), { recursive: true, force: true });
  for (const dir of [temp, ...cleanups]) rmSync(dir, { recursive: true, force: true });
});

function step(fields: Partial<RunStep> & { run: string }): RunStep {
  return {
    kind: "run",
    name: "test",
    needs: [],
    timeoutMs: 60_000,
    retries: 0,
    env: {},
    secrets: {},
    junit: [],
    caches: [],
    artifacts: [],
    ...fields,
  };
}

let runs = 0;
async function context(): Promise<StepContext> {
  const id = ++runs;
  await prepareWorkspaces(stateDir);
  const checkout = runWorkspace(stateDir, id);
  mkdirSync(checkout, { recursive: true });
  return {
    pipeline: "shop",
    checkout,
    logFile: join(stateDir, "runs", String(id), "logs", "test.log"),
    env: { BATON_RUN: String(id) },
    signal: new AbortController().signal,
    cacheRoot: join(stateDir, "cache"),
    artifactsDir: join(stateDir, "runs", String(id), "artifacts", "test"),
    sandboxed: true,
  };
}

describe("a host step's user", () => {
  it("is baton-step by default, owning its folder, outside the state directory", async () => {
    const ctx = await context();
    const result = await runStep(
      step({ run: 'id -un > who.txt; echo "$HOME" >> who.txt', artifacts: ["who.txt"] }),
      ctx,
    );
    const log = readFileSync(ctx.logFile, "utf8");
    expect(result.status, log).toBe("passed");
    expect(log).toContain("on the host as baton-step");
    // Taken back once the step ended, before its report and artifacts were read: what the
    // step may have left running can no longer touch them.
    expect(statSync(join(ctx.checkout, "who.txt")).uid).toBe(0);
    expect(statSync(ctx.checkout)).toMatchObject({ uid: 0 });
    expect(statSync(ctx.checkout).mode & 0o777).toBe(0o700);
    const kept = join(ctx.artifactsDir, "who.txt");
    expect(readFileSync(kept, "utf8")).toBe("baton-step\n/var/lib/baton-step\n");
    expect(statSync(kept).mode & 0o777).toBe(0o600);
    expect(statSync(ctx.logFile).mode & 0o777).toBe(0o600);
  });

  it("is the step's `user:`, or fails the step when there is no such user", async () => {
    const ctx = await context();
    const nobody = await runStep(step({ run: "id -u; id -G", user: "65534:65534" }), ctx);
    const log = readFileSync(ctx.logFile, "utf8");
    expect(nobody.status, log).toBe("passed");
    // No group of the controller's is left (libuv drops supplementary groups).
    expect(log).toMatch(/^65534\n65534\n/m);

    const missing = await runStep(step({ run: "true", user: "no-such-user" }), await context());
    expect(missing.status).toBe("failed");
    expect(missing.problems).toEqual([
      "the step's user no-such-user does not exist on this host (create it (useradd --system --create-home no-such-user), write `user: UID:GID`, or remove `user:` to run as baton-step)",
    ]);
  });

  it("is the controller's own when it is not root: said in the log; a `user:` is refused", () => {
    // A controller run by an ordinary user (nobody), with its own TMPDIR.
    const home = mkdtempSync(join(tmpdir(), "baton-nobody-"));
    cleanups.push(home);
    chownSync(home, 65534, 65534);
    const script = `
      const { runStep } = await import(${JSON.stringify(join(ROOT, "dist/delivery/steps/run-step.js"))});
      const sandbox = await import(${JSON.stringify(join(ROOT, "dist/security/sandbox/index.js"))});
      const { mkdirSync, readFileSync } = await import("node:fs");
      const state = process.env.TMPDIR + "/state";
      const results = [];
      for (const [id, user] of [[1, undefined], [2, "root"]]) {
        await sandbox.prepareWorkspaces(state);
        const checkout = sandbox.runWorkspace(state, id);
        mkdirSync(checkout, { recursive: true });
        const logFile = state + "/runs/" + id + "/test.log";
        const result = await runStep(
          { kind: "run", name: "test", needs: [], timeoutMs: 60000, retries: 0, env: {}, secrets: {},
            junit: [], caches: [], artifacts: [], run: "id -u", ...(user ? { user } : {}) },
          { pipeline: "p", checkout, logFile, env: {}, signal: new AbortController().signal,
            cacheRoot: state + "/cache", artifactsDir: state + "/a", sandboxed: true },
        );
        results.push({ status: result.status, problems: result.problems, checkout,
          log: readFileSync(logFile, "utf8") });
      }
      console.log(JSON.stringify(results));
    `;
    const out = execFileSync(
      "setpriv",
      [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        process.execPath,
        "--input-type=module",
        "-e",
        script,
      ],
      { encoding: "utf8", env: { PATH: process.env.PATH ?? "", TMPDIR: home, HOME: home } },
    );
    const [plain, asRoot] = JSON.parse(out) as {
      status: string;
      problems: string[];
      checkout: string;
      log: string;
    }[];
    expect(plain?.status, plain?.log).toBe("passed");
    expect(plain?.checkout.startsWith(join(home, "baton-steps-65534"))).toBe(true);
    expect(plain?.log).toContain(
      "not sandboxed: the controller runs as nobody (uid 65534), not root, so it cannot switch to baton-step; this step can read whatever nobody can, the state directory and its token included — run the controller as root, or give the step an `image:`",
    );
    expect(plain?.log).toMatch(/^65534$/m);
    expect(asRoot?.status).toBe("failed");
    expect(asRoot?.problems).toEqual([
      "the step's `user: root` cannot be honoured: the controller runs as nobody (uid 65534), not root, and cannot switch users (run the controller as root, or remove `user:` from the step)",
    ]);
  });
});
