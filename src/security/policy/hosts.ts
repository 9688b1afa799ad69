/**
 * The `hosts:` rules against what a host reports: its kernel settings, its installed
 * packages and sshd's effective settings (`sshd -T`, which counts every Include and Match
 * default, unlike reading sshd_config). Pure, so it is tested on captured output;
 * host-observe.ts gathers that output.
 */
import type { HostPolicy } from "./host-policy.js";
import { requirement } from "./rules.js";

export interface ObservedHost {
  /** Key → value, only for keys the host has. */
  readonly sysctl: Readonly<Record<string, string>>;
  /** Installed packages (of those asked about) → version. */
  readonly packages: Readonly<Record<string, string>>;
  /** Lowercased keyword → value, as `sshd -T` prints them; undefined when it could not run. */
  readonly sshd?: Readonly<Record<string, string>>;
  /** Why `sshd -T` printed nothing usable. */
  readonly sshdError?: string;
}

/** One sentence per broken rule (`has telnetd 0.17 installed; prod's policy …`); [] when none. */
export function hostViolations(policy: HostPolicy, observed: ObservedHost, env: string): string[] {
  const lines: string[] = [];
  const rule = (name: string, key: string | undefined, value: unknown): string => {
    const at = policy.at[key === undefined ? name : `${name}.${key}`] ?? "?";
    return `${env}'s policy requires ${requirement("hosts", key === undefined ? [name] : [name, key], value)} (policy at ${at})`;
  };
  for (const [key, want] of Object.entries(policy.sysctl)) {
    const have = observed.sysctl[key];
    if (have !== undefined && same(have, want)) continue;
    lines.push(
      `has sysctl ${key} ${have === undefined ? "unset" : `= ${have}`}; ${rule("sysctl", key, want)}`,
    );
  }
  for (const name of policy.packagesAbsent) {
    const version = observed.packages[name];
    if (version === undefined) continue;
    lines.push(
      `has ${name} ${version} installed; ${rule("packagesAbsent", undefined, policy.packagesAbsent)}`,
    );
  }
  for (const [keyword, want] of Object.entries(policy.sshd)) {
    const where = rule("sshd", keyword, want);
    if (observed.sshd === undefined) {
      lines.push(
        `sshd's settings could not be read (${observed.sshdError ?? "sshd -T failed"}); ${where}`,
      );
      continue;
    }
    const have = observed.sshd[keyword.toLowerCase()];
    if (have !== undefined && have.toLowerCase() === want.toLowerCase()) continue;
    lines.push(`has sshd ${keyword} ${have ?? "unset"}; ${where}`);
  }
  return lines;
}

/** `/proc/sys` separates a vector's values with tabs; a policy writes them with spaces. */
function same(have: string, want: string): boolean {
  const norm = (text: string) => text.trim().split(/\s+/).join(" ");
  return norm(have) === norm(want);
}
