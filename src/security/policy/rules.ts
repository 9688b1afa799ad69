/**
 * The policy's rules as data: for each area and rule, what the message says the policy
 * requires. The checkers (containers.ts, apps.ts, processes.ts, hosts.ts) say what breaks
 * them; check.ts turns that into a diagnostic naming the rule and where it is written.
 */
import type { Path } from "../../definition/phrases.js";

export type PolicyArea = "containers" | "hosts" | "apps" | "processes";

/** One way a definition or a host breaks a rule. */
export interface Violation {
  readonly area: PolicyArea;
  /** The rule's path under the area: `["nonRoot"]`, `["sysctl", "net.ipv4.ip_forward"]`. */
  readonly rule: Path;
  /** Where the offence is in the (overlaid) definition; absent for what a host is. */
  readonly path?: Path;
  /** Starts the message: `apps.api.user is 0:0`, `has telnetd 0.17-44 installed`. */
  readonly what: string;
  readonly expected: string;
  readonly found: string;
  readonly hint: string;
}

/** The rule's value, and for a rule with one entry per key (a sysctl) that key. */
type Phrase = (value: unknown, key?: string) => string;

const list = (value: unknown): string =>
  Array.isArray(value) && value.length > 0 ? value.map(String).join(", ") : "none";

/** How the message names each rule: `prod's policy requires <this>`. */
export const RULES: Readonly<Record<PolicyArea, Readonly<Record<string, Phrase>>>> = {
  containers: {
    nonRoot: () => "nonRoot",
    readOnlyRootfs: () => "readOnlyRootfs",
    noPrivilegedMounts: () => "noPrivilegedMounts",
    allowedCapabilities: (v) => `allowedCapabilities (${list(v)})`,
    requireResources: () => "requireResources",
    allowedRegistries: (v) => `allowedRegistries (${list(v)})`,
    pinnedImages: () => "pinnedImages",
  },
  hosts: {
    sysctl: (v, key) => `sysctl ${key ?? ""} = ${String(v)}`,
    packagesAbsent: (v) => `packagesAbsent (${list(v)})`,
    sshd: (v, key) => `sshd ${key ?? ""} ${String(v)}`,
  },
  apps: {
    requireReadiness: () => "requireReadiness",
    minReplicas: (v) => `minReplicas: ${String(v)}`,
  },
  processes: {
    nonRoot: () => "nonRoot",
  },
};

/** The phrase of `rule` (`["nonRoot"]`, `["sysctl", KEY]`) in `area` given its written value. */
export function requirement(area: PolicyArea, rule: Path, value: unknown): string {
  const [name, key] = rule;
  const phrase = RULES[area][String(name)];
  return phrase === undefined
    ? String(name)
    : phrase(value, key === undefined ? undefined : String(key));
}
