/**
 * CPU time and memory of processes, read from /proc: what a process manager costs while
 * nothing happens.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { readProcStat } from "../../src/util/proc.js";

export const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process in clock ticks, or undefined when it is gone. */
export function cpuTicks(pid: number): number | undefined {
  const stat = readProcStat(pid);
  return stat === undefined ? undefined : stat.utimeTicks + stat.stimeTicks;
}

/** Resident set size in KiB (VmRSS), or undefined when the process is gone. */
export function rssKib(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** Pids of the direct children of a process. */
export function childrenOf(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return text === "" ? [] : text.split(/\s+/).map(Number);
  } catch {
    return [];
  }
}

/** Running (not gone, not a zombie waiting for its parent to reap it). */
export function alive(pid: number): boolean {
  const state = readProcStat(pid)?.state;
  return state !== undefined && state !== "Z";
}

/** Waits (bounded) until none of pids is alive; returns those still alive at the deadline. */
export async function waitGone(pids: readonly number[], timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = pids.filter(alive);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = left.filter(alive);
  }
  return left;
}

/**
 * CPU use of each group of pids over a window, in % of one core (100 = one core busy):
 * the utime+stime delta of the group divided by the wall time. A pid gone during the
 * window counts for what it used before.
 */
export async function cpuOver(
  groups: Readonly<Record<string, readonly number[]>>,
  windowMs: number,
): Promise<Record<string, number>> {
  const before = new Map<number, number>();
  for (const pids of Object.values(groups)) {
    for (const pid of pids) before.set(pid, cpuTicks(pid) ?? 0);
  }
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, windowMs));
  const seconds = (performance.now() - t0) / 1_000;
  const out: Record<string, number> = {};
  for (const [name, pids] of Object.entries(groups)) {
    let ticks = 0;
    for (const pid of pids) {
      const end = cpuTicks(pid);
      if (end !== undefined) ticks += end - (before.get(pid) ?? end);
    }
    out[name] = (ticks / CLK_TCK / seconds) * 100;
  }
  return out;
}

/** Summed RSS of pids, in MiB. */
export function rssMib(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (rssKib(pid) ?? 0), 0) / 1024;
}
