import { spawn } from "node:child_process";
import { request } from "node:http";
import { connect } from "node:net";
import type { Probe } from "../definition/model.js";
import { commandArgv } from "../runtime/command.js";

export interface ProbeTarget {
  readonly host: string;
  readonly port: number;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /**
   * Runs an exec probe where the replica lives (inside its container); resolves to "" on
   * exit 0, else why not. Absent: the probe runs on this machine in `cwd` with `env`.
   */
  readonly exec?: (argv: readonly string[], timeoutMs: number) => Promise<string>;
  /**
   * An exec probe on this machine runs as the replica's user (`user:`), through this argv
   * put before it: never as the controller, in a folder the app may write to.
   */
  readonly asUser?: (argv: readonly string[]) => string[];
}

export interface ProbeResult {
  readonly ok: boolean;
  /** Why it failed, for events and status; short. */
  readonly detail: string;
  readonly latencyMs: number;
}

/** Runs one check of a probe against a replica, bounded by the probe's timeout. */
export async function runProbe(probe: Probe, target: ProbeTarget): Promise<ProbeResult> {
  const started = performance.now();
  const detail = await (probe.kind === "http"
    ? httpCheck(target, probe.path, probe.timeoutMs)
    : probe.kind === "tcp"
      ? tcpCheck(target, probe.timeoutMs)
      : execCheck(target, probe.argv, probe.timeoutMs));
  return { ok: detail === "", detail, latencyMs: performance.now() - started };
}

function httpCheck(target: ProbeTarget, path: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: target.host,
        port: target.port,
        path,
        method: "GET",
        timeout: timeoutMs,
        agent: false,
        headers: { "user-agent": "baton-probe", connection: "close" },
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        resolve(status >= 200 && status < 400 ? "" : `GET ${path} answered ${status}`);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs}ms`)));
    req.on("error", (error) => resolve(`GET ${path}: ${error.message}`));
    req.end();
  });
}

function tcpCheck(target: ProbeTarget, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`tcp connect: no answer within ${timeoutMs}ms`);
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve("");
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      resolve(`tcp connect: ${error.message}`);
    });
  });
}

function execCheck(
  target: ProbeTarget,
  argv: readonly string[],
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve) => {
    const expanded = commandArgv({ argv }, target.env);
    const [command, ...commandArgs] = expanded;
    if (command === undefined) return resolve("exec: empty command");
    const [file = command, ...args] =
      target.asUser === undefined || target.exec !== undefined
        ? expanded
        : target.asUser([command, ...commandArgs]);
    if (target.exec !== undefined) {
      target
        .exec([file, ...args], timeoutMs)
        .then(resolve, (error: Error) => resolve(`exec ${file}: ${error.message}`));
      return;
    }
    const child = spawn(file, args, {
      cwd: target.cwd,
      env: { ...target.env },
      stdio: "ignore",
      detached: true,
    });
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
      resolve(`exec ${command}: no exit within ${timeoutMs}ms`);
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      resolve(`exec ${command}: ${error.message}`);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(code === 0 ? "" : `exec ${command}: exited with ${code ?? signal}`);
    });
  });
}
