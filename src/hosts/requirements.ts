/**
 * An environment's `require:` against one host's facts: the OS it runs and the packages it
 * has, at versions that satisfy the constraints. Checked by plan and drift.
 */
import type { HostRequirements } from "../definition/host-model.js";
import { satisfies } from "./debian-version.js";

export interface RequirementFacts {
  /** `<ID>-<VERSION_ID>`. */
  readonly os: string;
  readonly packages: Readonly<Record<string, string>>;
}

/** What the host lacks, one sentence each; [] when it meets every requirement. */
export function unmetRequirements(
  required: HostRequirements,
  facts: RequirementFacts,
  environment: string,
): string[] {
  const unmet: string[] = [];
  if (required.os !== undefined && required.os !== facts.os) {
    unmet.push(`runs ${facts.os}; environment ${environment} requires ${required.os}`);
  }
  for (const [name, constraint] of Object.entries(required.packages)) {
    const version = facts.packages[name];
    if (version === undefined)
      unmet.push(
        `has no package ${name}; environment ${environment} requires ${name} ${constraint}`,
      );
    else if (!satisfies(version, constraint)) {
      unmet.push(
        `has ${name} ${version}; environment ${environment} requires ${name} ${constraint}`,
      );
    }
  }
  return unmet;
}
