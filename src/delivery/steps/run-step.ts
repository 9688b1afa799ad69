import { closeSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { BatonError } from "../../api/errors.js";
import type { RunStep } from "../../definition/pipeline-model.js";
import {
  handOver,
  hostStepUser,
  type StepIdentity,
  takeBack,
} from "../../security/sandbox/index.js";
import { collectArtifacts } from "./artifacts.js";
import type { AttemptEnd, AttemptRequest } from "./attempt.js";
import { restoreCaches, saveCaches } from "./caches.js";
import { CappedLog } from "./capped-log.js";
import { runInContainer } from "./container-command.js";
import { runOnHost } from "./host-command.js";
import { readReports } from "./reports.js";
import { SecretMasker } from "./secret-mask.js";
import { containerStepEnv, hostStepEnv } from "./step-env.js";
import { readStepSecrets } from "./step-secrets.js";
import type { StepContext, StepResult, StepStatus, TestSummary } from "./step-types.js";

const DEFAULT_KILL_GRACE_MS = 3_000;
/** The definition's default `retention.maxLogSize` (10Mi). */
const DEFAULT_MAX_LOG_BYTES = 10 * 1024 * 1024;

/**
 * Runs one `run:` step to its end: caches restored, the command run (again after a failure,
 * `retries` times), its JUnit reports read and artifacts kept, caches saved if it passed.
 * Everything it says goes to the log; it rejects only on a fault of Baton's own, never
 * because of the step (that is a "failed" result with its problems).
 */
export async function runStep(step: RunStep, ctx: StepContext): Promise<StepResult> {
  const startedAt = Date.now();
  mkdirSync(dirname(ctx.logFile), { recursive: true, mode: 0o700 });
  const logFd = openSync(ctx.logFile, "a+", 0o600);
  const log = new CappedLog(logFd, ctx.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES);
  const say = (line: string): void => log.line(line);
  const problems: string[] = [];
  const problem = (line: string): void => {
    problems.push(line);
    say(line);
  };
  const finish = (
    status: StepStatus,
    exitCode: number | null,
    attempts: number,
    extra: { tests?: TestSummary; artifacts?: string[] } = {},
  ): StepResult => {
    const durationMs = Date.now() - startedAt;
    say(`step ${step.name} ${describe(status, exitCode)} after ${seconds(durationMs)}`);
    return {
      status,
      exitCode,
      attempts,
      startedAt,
      durationMs,
      ...(extra.tests ? { tests: extra.tests } : {}),
      artifacts: extra.artifacts ?? [],
      problems,
    };
  };

  try {
    if (ctx.signal.aborted) return finish("cancelled", null, 0);
    if (!isDirectory(ctx.checkout)) {
      problem(
        `the checkout ${ctx.checkout} is not a directory: the run must check its commit out first`,
      );
      return finish("failed", null, 0);
    }
    const where = { checkout: ctx.checkout, cacheRoot: ctx.cacheRoot, pipeline: ctx.pipeline };
    const restored = await restoreCaches(step.caches, where);
    for (const note of restored.notes) say(note);
    for (const line of restored.problems) problem(line);

    const secrets = readStepSecrets(step.secrets, process.env);
    if ("problem" in secrets) {
      problem(secrets.problem);
      return finish("failed", null, 0);
    }
    const env = { ...step.env, ...secrets.values };
    const mask = new SecretMasker(Object.values(secrets.values));
    let runAs: StepIdentity | undefined;
    if (step.image === undefined && ctx.sandboxed === true) {
      const sandbox = await sandboxFor(step, ctx.checkout);
      if ("problem" in sandbox) {
        problem(sandbox.problem);
        return finish("failed", null, 0);
      }
      if (sandbox.note !== undefined) say(sandbox.note);
      runAs = sandbox.identity;
    }
    const identityEnv: Record<string, string> =
      runAs === undefined ? {} : { HOME: runAs.home, USER: runAs.name, LOGNAME: runAs.name };
    const request: AttemptRequest = {
      stepName: step.name,
      command: step.run,
      checkout: ctx.checkout,
      env: step.image
        ? containerStepEnv(ctx.env, env)
        : hostStepEnv(process.env, ctx.env, env, identityEnv),
      log,
      mask: mask.active ? mask : undefined,
      timeoutMs: step.timeoutMs,
      signal: ctx.signal,
      killGraceMs: ctx.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
      onStarted: ctx.onStarted,
      runAs,
    };
    const image = step.image;
    const runAttempt = (): Promise<AttemptEnd> =>
      image === undefined
        ? runOnHost(request)
        : runInContainer({ ...request, image, labels: ctx.labels ?? [] });

    const maxAttempts = 1 + Math.max(0, step.retries);
    let attempts = 0;
    let end: AttemptEnd;
    try {
      for (;;) {
        // A cancel during the cache restore or between attempts starts nothing more.
        if (ctx.signal.aborted) return finish("cancelled", null, attempts);
        attempts++;
        const where =
          image === undefined
            ? `on the host${runAs === undefined ? "" : ` as ${runAs.name}`}`
            : `in a container of ${image}`;
        say(
          `step ${step.name}, attempt ${attempts} of ${maxAttempts}, ${where}: ${firstLine(step.run)}`,
        );
        end = await runAttempt();
        if (end.kind !== "exited" || end.exitCode === 0) break;
        if (attempts >= maxAttempts) break;
        say(`attempt ${attempts} failed with exit code ${end.exitCode}; trying again`);
      }
    } finally {
      // Before anything of the checkout is read as the controller.
      if (runAs !== undefined) await takeBack(ctx.checkout);
    }

    if (end.kind === "not-started") {
      problem(end.message);
      return finish("failed", null, attempts);
    }
    if (end.kind === "killed") {
      if (end.reason === "timed-out") say(`timed out after ${seconds(step.timeoutMs)}: killed`);
      if (end.reason === "cancelled") return finish("cancelled", null, attempts);
    }
    const status: StepStatus =
      end.kind === "killed" ? end.reason : end.exitCode === 0 ? "passed" : "failed";
    const exitCode = end.kind === "exited" ? end.exitCode : null;

    const reports = readReports(ctx.checkout, step.junit);
    for (const line of reports.problems) problem(line);
    if (reports.tests) say(testLine(reports.tests));
    const collected = await collectArtifacts(ctx.checkout, step.artifacts, ctx.artifactsDir);
    for (const line of collected.problems) problem(line);
    if (collected.artifacts.length > 0) say(`kept ${collected.artifacts.length} artifact(s)`);
    if (status === "passed") {
      const saved = await saveCaches(step.caches, where);
      for (const note of saved.notes) say(note);
      for (const line of saved.problems) problem(line);
    }
    return finish(status, exitCode, attempts, {
      ...(reports.tests ? { tests: reports.tests } : {}),
      artifacts: collected.artifacts,
    });
  } finally {
    try {
      log.close();
    } finally {
      closeSync(logFd);
    }
  }
}

/**
 * Who the host step runs as, its checkout handed over to that user; or why it cannot run.
 * `note` is for the log: a step that is not sandboxed says so.
 */
async function sandboxFor(
  step: RunStep,
  checkout: string,
): Promise<{ identity?: StepIdentity; note?: string } | { problem: string }> {
  try {
    const user = await hostStepUser(step.user);
    if (user.kind === "self") return user.warning === undefined ? {} : { note: user.warning };
    await handOver(checkout, user.identity);
    return user.note === undefined
      ? { identity: user.identity }
      : { identity: user.identity, note: user.note };
  } catch (error) {
    const hint = error instanceof BatonError && error.hint !== undefined ? ` (${error.hint})` : "";
    return { problem: `${error instanceof Error ? error.message : String(error)}${hint}` };
  }
}

function firstLine(command: string): string {
  const lines = command.trim().split("\n");
  return lines.length > 1 ? `${lines[0]} …` : (lines[0] ?? "");
}

function testLine(tests: TestSummary): string {
  const names = tests.failures.slice(0, 10).map((f) => f.name);
  const more = tests.failures.length > names.length ? ", …" : "";
  return `tests: ${tests.total} run, ${tests.failed} failed, ${tests.skipped} skipped${
    names.length > 0 ? ` (failed: ${names.join(", ")}${more})` : ""
  }`;
}

function describe(status: StepStatus, exitCode: number | null): string {
  if (status === "failed" && exitCode !== null) return `failed with exit code ${exitCode}`;
  return status;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
