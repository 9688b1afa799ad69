import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";
import type { Readable } from "node:stream";
import { groupAlive, readProcStat, signalGroup } from "../../util/proc.js";
import { waitUntil } from "../../util/wait.js";
import { type AttemptEnd, type AttemptRequest, killTrigger, type StepOutput } from "./attempt.js";
import type { SecretMasker } from "./secret-mask.js";

/** How long the output may still flow once the step's process group is gone. */
const OUTPUT_DRAIN_MS = 2_000;

/**
 * Runs the command with `sh -c` on this host, in its own session and process group. A
 * timeout or cancel signals the whole group, so children and grandchildren go with it; so
 * do the leftovers of a command that exits while its background jobs still run. The output
 * passes through us — its size is capped and secrets masked on the way to the log; a
 * controller that dies takes the step with it, which an interrupted run does anyway.
 */
export async function runOnHost(request: AttemptRequest): Promise<AttemptEnd> {
  const child = spawn("/bin/sh", ["-c", request.command], {
    cwd: request.checkout,
    env: { ...request.env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    // libuv drops the controller's supplementary groups when it switches.
    ...(request.runAs === undefined ? {} : { uid: request.runAs.uid, gid: request.runAs.gid }),
  });
  const outputEnded = copyOutput(child, request.mask, request.log);
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code, signal) =>
      resolve(signal === null ? code : 128 + signalNumber(signal)),
    );
  });
  const spawnError = await new Promise<Error | undefined>((resolve) => {
    child.once("spawn", () => resolve(undefined));
    child.once("error", resolve);
  });
  if (spawnError !== undefined || child.pid === undefined) {
    return {
      kind: "not-started",
      message: `cannot start /bin/sh in ${request.checkout}: ${spawnError?.message ?? "no pid"}`,
    };
  }
  const pgid = child.pid;
  request.onStarted?.({ kind: "process", pgid, startTicks: readProcStat(pgid)?.startTicks ?? 0 });
  const trigger = killTrigger(request.timeoutMs, request.signal);
  const first = await Promise.race([
    exited.then((code) => ({ code })),
    trigger.fired.then((reason) => ({ reason })),
  ]);
  trigger.stop();
  if ("reason" in first) {
    await killGroup(pgid, request.killGraceMs);
    await exited;
    await drained(child, outputEnded);
    return { kind: "killed", reason: first.reason };
  }
  // The shell is gone; whatever it left running in its group is part of the step and ends too.
  if (groupAlive(pgid)) await killGroup(pgid, request.killGraceMs);
  await drained(child, outputEnded);
  return { kind: "exited", exitCode: first.code ?? 1 };
}

/**
 * Copies the child's stdout and stderr, masked when there are secrets, into the log;
 * resolves when both have ended.
 */
function copyOutput(
  child: ChildProcess,
  mask: SecretMasker | undefined,
  log: StepOutput,
): Promise<void> {
  const streams = [child.stdout, child.stderr].filter((s): s is Readable => s !== null);
  return Promise.all(
    streams.map(
      (stream) =>
        new Promise<void>((resolve) => {
          stream.on("data", (chunk: Buffer) =>
            log.write(mask === undefined ? chunk : mask.write(chunk)),
          );
          stream.once("close", resolve);
          stream.once("error", () => resolve());
        }),
    ),
  ).then(() => {
    if (mask !== undefined) log.write(mask.end());
  });
}

/**
 * Waits for the output to end. A process that left the step's group (setsid) may still hold
 * the pipes: past a bound, they are closed on our side and the step ends anyway.
 */
async function drained(child: ChildProcess, outputEnded: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, OUTPUT_DRAIN_MS);
  });
  await Promise.race([outputEnded, bound]);
  clearTimeout(timer);
  child.stdout?.destroy();
  child.stderr?.destroy();
  await outputEnded;
}

export async function killGroup(pgid: number, graceMs: number): Promise<void> {
  signalGroup(pgid, "SIGTERM");
  if (await waitUntil(() => !groupAlive(pgid), graceMs)) return;
  signalGroup(pgid, "SIGKILL");
  if (!(await waitUntil(() => !groupAlive(pgid), 10_000))) {
    throw new Error(`processes of group ${pgid} survived SIGKILL for 10 s (stuck in the kernel?)`);
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal] ?? 0;
}
