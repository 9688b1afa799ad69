/** `user`: a local account (useradd / usermod / userdel of Debian's passwd package). */
import type { UserResource } from "../../definition/host-model.js";
import type { ApplyStep, FieldChange, HostModule, ProbeResult } from "./module.js";
import { moduleScript } from "./module-script.js";

/** The passwd entry, the primary group's name, then every group's name; exit 2 when missing. */
const PROBE_SCRIPT = moduleScript('getent passwd "$1" || exit 2; id -gn -- "$1"; id -Gn -- "$1"');

interface Account {
  readonly uid: string;
  readonly gid: string;
  readonly group: string;
  /** Supplementary groups, sorted. */
  readonly groups: readonly string[];
  readonly home: string;
  readonly shell: string;
}

function observe(results: ReadonlyMap<string, ProbeResult>): Account | undefined {
  const result = results.get("account");
  if (result === undefined) throw new Error('the probe "account" has no result');
  if (result.code === 2) return undefined;
  if (result.code !== 0) {
    throw new Error(`reading the account failed (exit ${result.code}): ${result.stderr.trim()}`);
  }
  const [entry = "", primary = "", all = ""] = result.stdout.split("\n");
  const fields = entry.split(":");
  if (fields.length < 7) throw new Error(`unexpected passwd entry: ${JSON.stringify(entry)}`);
  return {
    uid: fields[2]!,
    gid: fields[3]!,
    group: primary,
    groups: sortedGroups(all.split(" ").filter((name) => name !== "" && name !== primary)),
    home: fields[5]!,
    shell: fields[6]!,
  };
}

function sortedGroups(groups: readonly string[]): string[] {
  return [...new Set(groups)].sort();
}

export const userModule: HostModule<UserResource> = {
  module: "user",
  id: (resource) => resource.name,
  probes: (resource) => [{ id: "account", argv: ["sh", "-c", PROBE_SCRIPT, "sh", resource.name] }],

  diff(resource, results): FieldChange[] {
    const account = observe(results);
    if (resource.state === "absent") {
      return account === undefined ? [] : [{ field: "state", from: "present", to: "absent" }];
    }
    const changes: FieldChange[] = [];
    if (account === undefined) changes.push({ field: "state", from: "absent", to: "present" });
    const compare = (field: string, found: string | undefined, wanted: string | undefined) => {
      if (wanted !== undefined && found !== wanted) {
        changes.push({ field, from: found ?? null, to: wanted });
      }
    };
    compare("uid", account?.uid, resource.uid?.toString());
    const group =
      resource.group !== undefined && /^\d+$/.test(resource.group) ? account?.gid : account?.group;
    compare("group", group, resource.group);
    compare(
      "groups",
      account?.groups.join(","),
      resource.groups === undefined ? undefined : sortedGroups(resource.groups).join(","),
    );
    compare("shell", account?.shell, resource.shell);
    compare("home", account?.home, resource.home);
    return changes;
  },

  apply(resource, changes): ApplyStep[] {
    if (resource.state === "absent") return [{ argv: ["userdel", "--", resource.name] }];
    const fields = new Set(changes.map((change) => change.field));
    const creating = fields.has("state");
    const options: string[] = [];
    const set = (field: string, flag: string, value: string | undefined) => {
      if (value !== undefined && (creating || fields.has(field))) options.push(flag, value);
    };
    set("uid", "-u", resource.uid?.toString());
    set("group", "-g", resource.group);
    set("groups", "-G", resource.groups?.join(","));
    set("shell", "-s", resource.shell);
    set("home", "-d", resource.home);
    if (!creating) return [{ argv: ["usermod", ...options, "--", resource.name] }];
    const kind = resource.system ? ["--system"] : ["--create-home"];
    return [{ argv: ["useradd", ...kind, ...options, "--", resource.name] }];
  },

  removal: (resource) => ({ ...resource, state: "absent" }),
};
