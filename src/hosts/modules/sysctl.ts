/**
 * `sysctl`: a kernel parameter's live value (`sysctl -w`), and with `persist` its line in
 * /etc/sysctl.d/99-baton.conf so that it survives a reboot (managed like `lineinfile`).
 */
import type { LineInFileResource, SysctlResource } from "../../definition/host-model.js";
import { lineInFileModule } from "./lineinfile.js";
import type { ApplyStep, FieldChange, HostModule, ProbeResult } from "./module.js";

export const SYSCTL_FILE = "/etc/sysctl.d/99-baton.conf";

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The persisted line of a key, as a lineinfile resource. */
export function persistedLine(
  resource: SysctlResource,
  state: "present" | "absent",
): LineInFileResource {
  return {
    module: "lineinfile",
    path: SYSCTL_FILE,
    line: `${resource.key} = ${resource.value}`,
    regexp: `^\\s*${escapeRegExp(resource.key)}\\s*=`,
    state,
    keep: resource.keep,
    notify: [],
  };
}

/** Values with several fields (ip_local_port_range) come back tab-separated. */
function normalize(value: string): string {
  return value.trim().split(/\s+/).join(" ");
}

/** The persisted line's probe results under the names lineinfile knows them by. */
function persistResults(
  results: ReadonlyMap<string, ProbeResult>,
): ReadonlyMap<string, ProbeResult> {
  const persist = results.get("persist");
  return persist === undefined ? new Map() : new Map([["state", persist]]);
}

export const sysctlModule: HostModule<SysctlResource> = {
  module: "sysctl",
  id: (resource) => resource.key,

  probes(resource) {
    const value = { id: "value", argv: ["sysctl", "-n", resource.key] };
    if (!resource.persist) return [value];
    const [file] = lineInFileModule.probes(persistedLine(resource, "present"));
    return [value, { id: "persist", argv: file!.argv }];
  },

  diff(resource, results): FieldChange[] {
    const result = results.get("value");
    if (result === undefined) throw new Error('the probe "value" has no result');
    if (result.code === 127) {
      throw new Error(
        "sysctl is not installed on the host: declare `package: { name: procps }` before it",
      );
    }
    if (result.code !== 0) {
      throw new Error(
        `sysctl -n ${resource.key} failed (exit ${result.code}): ${result.stderr.trim()}; is the key spelled right?`,
      );
    }
    const changes: FieldChange[] = [];
    const live = normalize(result.stdout);
    if (live !== normalize(resource.value)) {
      changes.push({ field: "value", from: live, to: normalize(resource.value) });
    }
    if (resource.persist) {
      const persisted = lineInFileModule.diff(
        persistedLine(resource, "present"),
        persistResults(results),
      );
      changes.push(...persisted.map((change) => ({ ...change, field: `persist.${change.field}` })));
    }
    return changes;
  },

  apply(resource, changes, results): ApplyStep[] {
    const steps: ApplyStep[] = [];
    // The live value first: the kernel refuses a bad value before it is persisted.
    if (changes.some((change) => change.field === "value")) {
      steps.push({ argv: ["sysctl", "-w", `${resource.key}=${resource.value}`] });
    }
    const persisted = changes
      .filter((change) => change.field.startsWith("persist."))
      .map((change) => ({ ...change, field: change.field.slice("persist.".length) }));
    if (persisted.length > 0) {
      steps.push(
        ...lineInFileModule.apply(
          persistedLine(resource, "present"),
          persisted,
          persistResults(results),
        ),
      );
    }
    return steps;
  },

  // The live value stays until the next reboot (there is no "previous" to go back to); the
  // persisted line goes, so the reboot brings the distribution's default back.
  removal: (resource) => (resource.persist ? persistedLine(resource, "absent") : undefined),
};
