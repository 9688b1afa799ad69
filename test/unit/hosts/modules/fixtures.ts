/** Probe results as a host would answer them, for planning tests without a host. */
import type { ProbeResult } from "../../../../src/hosts/modules/module.js";

export const common = { keep: false, notify: [] as readonly string[] };

export function results(
  entries: Record<string, string | [code: number, stdout: string, stderr?: string]>,
): Map<string, ProbeResult> {
  return new Map(
    Object.entries(entries).map(([id, value]) => {
      const [code, stdout, stderr = ""] = typeof value === "string" ? [0, value] : value;
      return [id, { code, stdout, stderr }];
    }),
  );
}

/** `stat -c "%a %u %U %g %G %F"` of a path. */
export function stat(mode: string, owner = "root", group = "root", type = "regular file"): string {
  const uid = owner === "root" ? "0" : "1000";
  const gid = group === "root" ? "0" : "1000";
  return `${mode} ${uid} ${owner} ${gid} ${group} ${type}`;
}
