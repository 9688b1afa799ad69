import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { proxyPaths } from "./paths.js";

/**
 * The live proxy process of a state directory, from its pid file, checked against the
 * process's command line (a reused pid is someone else). A proxy can be alive and still
 * not answer for a while (busy, stopped by a debugger): a second one must never be
 * started beside it, or the first would keep the app ports with nobody to stop it.
 */
export function proxyOwner(stateDir: string): number | undefined {
  const dir = resolve(stateDir);
  let pid: number;
  try {
    pid = Number(readFileSync(proxyPaths(dir).pid, "utf8").trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    const stateArg = argv.indexOf("--state");
    const isProxy = argv.some((arg) => arg.endsWith("/proxy/main.js"));
    if (isProxy && stateArg !== -1 && resolve(argv[stateArg + 1] ?? "") === dir) return pid;
  } catch {
    // gone
  }
  return undefined;
}
