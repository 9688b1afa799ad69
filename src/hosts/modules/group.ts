/** `group`: a local group (groupadd / groupmod / groupdel). */
import type { GroupResource } from "../../definition/host-model.js";
import type { ApplyStep, FieldChange, HostModule, ProbeResult } from "./module.js";
import { moduleScript } from "./module-script.js";

const DELETE_SCRIPT = moduleScript('if getent group "$1" >/dev/null; then groupdel -- "$1"; fi');

function observe(results: ReadonlyMap<string, ProbeResult>): { gid: string } | undefined {
  const result = results.get("entry");
  if (result === undefined) throw new Error('the probe "entry" has no result');
  // getent exits 2 for a key it does not know.
  if (result.code === 2) return undefined;
  if (result.code !== 0) {
    throw new Error(`getent group failed (exit ${result.code}): ${result.stderr.trim()}`);
  }
  const gid = result.stdout.split(":")[2];
  if (gid === undefined)
    throw new Error(`unexpected group entry: ${JSON.stringify(result.stdout)}`);
  return { gid };
}

export const groupModule: HostModule<GroupResource> = {
  module: "group",
  id: (resource) => resource.name,
  probes: (resource) => [{ id: "entry", argv: ["getent", "group", resource.name] }],

  diff(resource, results): FieldChange[] {
    const found = observe(results);
    if (resource.state === "absent") {
      return found === undefined ? [] : [{ field: "state", from: "present", to: "absent" }];
    }
    const wantedGid = resource.gid?.toString();
    if (found === undefined) {
      return [
        { field: "state", from: "absent", to: "present" },
        ...(wantedGid === undefined ? [] : [{ field: "gid", from: null, to: wantedGid }]),
      ];
    }
    return wantedGid !== undefined && found.gid !== wantedGid
      ? [{ field: "gid", from: found.gid, to: wantedGid }]
      : [];
  },

  apply(resource, changes): ApplyStep[] {
    // userdel may have taken a user's own group with it since the plan: gone is gone.
    if (resource.state === "absent") {
      return [{ argv: ["sh", "-c", DELETE_SCRIPT, "sh", resource.name] }];
    }
    const gid = resource.gid === undefined ? [] : ["-g", resource.gid.toString()];
    if (changes.some((change) => change.field === "state")) {
      return [
        {
          argv: ["groupadd", ...(resource.system ? ["--system"] : []), ...gid, "--", resource.name],
        },
      ];
    }
    return [{ argv: ["groupmod", ...gid, "--", resource.name] }];
  },

  removal: (resource) => ({ ...resource, state: "absent" }),
};
