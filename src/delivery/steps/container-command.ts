import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { DockerEngine, DockerError } from "../../runtime/docker/engine.js";
import { type AttemptEnd, type AttemptRequest, killTrigger, type StepOutput } from "./attempt.js";
import type { SecretMasker } from "./secret-mask.js";

/** Where the checkout is mounted, and the command's working directory, in the container. */
export const WORKSPACE = "/workspace";
export const STEP_LABEL = "baton.pipeline-step";

export interface ContainerAttemptRequest extends AttemptRequest {
  readonly image: string;
  /** "key" or "key=value", on top of baton.pipeline-step=<step>. */
  readonly labels: readonly string[];
  readonly engine?: DockerEngine;
}

/**
 * Runs the command with `sh -c` in a container of a local image, the checkout bind-mounted
 * at /workspace, as this process's uid:gid so what it writes there stays ours to read and
 * delete. Output goes to the log as the engine streams it; a timeout or cancel kills the
 * container (its every process at once); the container is removed at the end either way.
 */
export async function runInContainer(request: ContainerAttemptRequest): Promise<AttemptEnd> {
  const engine = request.engine ?? new DockerEngine();
  const name = `baton-step-${request.stepName.replace(/[^\w.-]/g, "-")}-${randomBytes(4).toString("hex")}`;
  const env = { HOME: "/tmp", ...request.env };
  try {
    await engine.call("POST", `/containers/create?name=${encodeURIComponent(name)}`, {
      Image: request.image,
      Entrypoint: ["sh"],
      Cmd: ["-c", request.command],
      WorkingDir: WORKSPACE,
      User: `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`,
      Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
      Labels: labelsOf(request.stepName, request.labels),
      AttachStdout: false,
      AttachStderr: false,
      Tty: false,
      HostConfig: {
        // A mount, not a "src:dst" bind string: a checkout path may hold a colon.
        Mounts: [{ Type: "bind", Source: request.checkout, Target: WORKSPACE }],
        // tini as PID 1 reaps the step's orphans, as a host step's are reaped by init.
        Init: true,
      },
    });
  } catch (error) {
    return { kind: "not-started", message: createError(request.image, error) };
  }
  try {
    if (request.signal.aborted) return { kind: "killed", reason: "cancelled" };
    try {
      await engine.call("POST", `/containers/${name}/start`);
    } catch (error) {
      return {
        kind: "not-started",
        message: `cannot start a container of ${request.image}: ${messageOf(error)}`,
      };
    }
    request.onStarted?.({ kind: "container", name });
    const logs = engine
      .stream(`/containers/${name}/logs?follow=1&stdout=1&stderr=1`)
      .then((res) => copyFrames(res, request.log, request.mask));
    const exited = engine.call<{ StatusCode: number }>(
      "POST",
      `/containers/${name}/wait`,
      undefined,
      0,
    );
    const trigger = killTrigger(request.timeoutMs, request.signal);
    const first = await Promise.race([
      exited.then((result) => ({ code: result.StatusCode })),
      trigger.fired.then((reason) => ({ reason })),
    ]);
    trigger.stop();
    if ("reason" in first) {
      await engine.call("POST", `/containers/${name}/kill`).catch(ignoreGone);
      await exited.catch(() => undefined);
    }
    await logs.catch(() => undefined);
    return "reason" in first
      ? { kind: "killed", reason: first.reason }
      : { kind: "exited", exitCode: first.code };
  } finally {
    await engine.call("DELETE", `/containers/${name}?force=1&v=1`).catch(ignoreGone);
  }
}

function labelsOf(step: string, extra: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = { [STEP_LABEL]: step };
  for (const label of extra) {
    const eq = label.indexOf("=");
    if (eq < 0) labels[label] = "";
    else labels[label.slice(0, eq)] = label.slice(eq + 1);
  }
  return labels;
}

/**
 * Writes the payloads of the engine's multiplexed stream (8-byte header: stream, three
 * zeros, big-endian size) to the log as raw bytes: stdout and stderr interleaved as sent.
 */
async function copyFrames(
  res: IncomingMessage,
  log: StepOutput,
  mask: SecretMasker | undefined,
): Promise<void> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of res as AsyncIterable<Buffer>) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      const frame = pending.subarray(8, 8 + size);
      log.write(mask === undefined ? frame : mask.write(frame));
      pending = pending.subarray(8 + size);
    }
  }
  if (mask !== undefined) log.write(mask.end());
}

function createError(image: string, error: unknown): string {
  if (error instanceof DockerError && error.status === 404) {
    return `the image ${JSON.stringify(image)} is not on this machine's Docker engine: build or load it first (e.g. docker build -t ${image} .); steps never pull`;
  }
  return `cannot create a container of ${image}: ${messageOf(error)}`;
}

function ignoreGone(error: unknown): void {
  if (error instanceof DockerError && (error.status === 404 || error.status === 409)) return;
  throw error;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
