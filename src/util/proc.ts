import { readdirSync, readFileSync } from "node:fs";

/**
 * Facts about processes read from /proc. The start time (in clock ticks since boot) is what
 * tells a live replica apart from an unrelated process that reused its pid.
 */
export interface ProcStat {
  readonly pid: number;
  readonly state: string;
  readonly ppid: number;
  readonly pgid: number;
  readonly utimeTicks: number;
  readonly stimeTicks: number;
  readonly startTicks: number;
  readonly rssPages: number;
}

export const CLOCK_TICKS_PER_SECOND = 100;
export const PAGE_SIZE = 4096;

export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const num = (i: number): number => Number(fields[i - 3]);
  return {
    pid,
    state: fields[0] ?? "?",
    ppid: num(4),
    pgid: num(5),
    utimeTicks: num(14),
    stimeTicks: num(15),
    startTicks: num(22),
    rssPages: num(24),
  };
}

/** Alive and the same process as recorded: not gone, not a zombie, not a reused pid. */
export function isSameProcess(pid: number, startTicks: number): boolean {
  const stat = readProcStat(pid);
  return stat !== undefined && stat.state !== "Z" && stat.startTicks === startTicks;
}

/** Any member of the process group still running (zombies awaiting their reaper excluded)? */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  // kill(0) also succeeds while only zombies remain; the leader usually tells, else scan.
  const leader = readProcStat(pgid);
  if (leader !== undefined && leader.pgid === pgid && leader.state !== "Z") return true;
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readProcStat(pid);
    if (stat !== undefined && stat.pgid === pgid && stat.state !== "Z") return true;
  }
  return false;
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}
