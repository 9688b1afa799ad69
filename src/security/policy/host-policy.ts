/**
 * The `hosts:` rules of an environment's policy, in the model: what its hosts must report,
 * and where each rule is written (for the message that names it).
 */
import { basename } from "node:path";
import type { Path } from "../../definition/phrases.js";
import type { Positions } from "../../definition/yaml-source.js";
import type { HostPolicyInput } from "./schema.js";

export interface HostPolicy {
  /** Key → the value `/proc/sys` must hold, as written. */
  readonly sysctl: Readonly<Record<string, string>>;
  readonly packagesAbsent: readonly string[];
  /** Keyword → value `sshd -T` must print, as written. */
  readonly sshd: Readonly<Record<string, string>>;
  /** `sysctl`, `packagesAbsent`, `sshd.PermitRootLogin` → `baton.yaml:41:7`. */
  readonly at: Readonly<Record<string, string>>;
}

export function buildHostPolicy(
  input: HostPolicyInput,
  env: string,
  ctx: { readonly file: string; readonly source: Positions },
): HostPolicy {
  const at: Record<string, string> = {};
  const locate = (rule: Path): string => {
    const span = ctx.source.keySpan(["environments", env, "policy", "hosts", ...rule]);
    return `${basename(ctx.file)}:${span.line}:${span.col}`;
  };
  const asText = (values: Record<string, string | number> | undefined, rule: string) =>
    Object.fromEntries(
      Object.entries(values ?? {}).map(([key, value]) => {
        at[`${rule}.${key}`] = locate([rule, key]);
        return [key, String(value)];
      }),
    );
  const sysctl = asText(input.sysctl, "sysctl");
  const sshd = asText(input.sshd, "sshd");
  if (input.packagesAbsent !== undefined) at.packagesAbsent = locate(["packagesAbsent"]);
  return { sysctl, sshd, packagesAbsent: input.packagesAbsent ?? [], at };
}
