import { readdirSync, readFileSync } from "node:fs";

/** A process's environment as the kernel holds it (/proc/<pid>/environ). */
export function environOf(pid: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** Every live process whose process group is `pgid` (field 5 of /proc/<pid>/stat). */
export function processGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Real, effective, saved and fs uids and gids, and the supplementary groups of `pid`. */
export function identityOf(pid: number): { uids: number[]; gids: number[]; groups: number[] } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return identityIn(status);
}

/** identityOf, or undefined for a process gone meanwhile (a short-lived child). */
export function identityIfAlive(
  pid: number,
): { uids: number[]; gids: number[]; groups: number[] } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  return identityIn(status);
}

function identityIn(status: string): { uids: number[]; gids: number[]; groups: number[] } {
  const field = (name: string): number[] =>
    (new RegExp(`^${name}:\\s*(.*)$`, "m").exec(status)?.[1] ?? "")
      .trim()
      .split(/\s+/)
      .filter((s) => s !== "")
      .map(Number);
  return { uids: field("Uid"), gids: field("Gid"), groups: field("Groups") };
}

/** `pid` and every live process descending from it (field 4 of /proc/<pid>/stat: the parent). */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parents.set(Number(name), Number(fields[1]));
    } catch {
      // gone meanwhile
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  }
  return tree;
}
