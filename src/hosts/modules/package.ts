/**
 * `package`: a Debian package installed (any or an exact version) or not, through apt-get.
 * apt-get is slow to start (it reads the whole package database), so consecutive package
 * changes of one host are merged into one `apt-get remove` and one `apt-get install`.
 */
import type { PackageResource } from "../../definition/host-model.js";
import type { ApplyStep, FieldChange, HostModule, PlannedResource, ProbeResult } from "./module.js";
import { moduleScript } from "./module-script.js";

const APT = ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"];

/** Exits 0 when apt has package lists: a fresh host has none and must `apt-get update`. */
const LISTS_SCRIPT = moduleScript(
  'for f in /var/lib/apt/lists/*_Packages*; do [ -e "$f" ] && exit 0; done; exit 1',
);

interface Installed {
  readonly installed: boolean;
  readonly version?: string;
}

function installed(results: ReadonlyMap<string, ProbeResult>): Installed {
  const result = results.get("status");
  if (result === undefined) throw new Error('the probe "status" has no result');
  // dpkg-query exits 1 for a package it never heard of.
  if (result.code !== 0) {
    if (/no packages found/i.test(result.stderr)) return { installed: false };
    throw new Error(`dpkg-query failed (exit ${result.code}): ${result.stderr.trim()}`);
  }
  // "install ok installed 1.2-3"; "deinstall ok config-files 1.2-3" is removed.
  const match = /^(\S+) (\S+) (\S+) ?(.*)$/.exec(result.stdout.trim());
  if (match?.[3] !== "installed") return { installed: false };
  return { installed: true, version: match[4] ?? "" };
}

function listsMissing(results: ReadonlyMap<string, ProbeResult>): boolean {
  const result = results.get("lists");
  return result !== undefined && result.code !== 0;
}

function installName(resource: PackageResource): string {
  return resource.version === undefined ? resource.name : `${resource.name}=${resource.version}`;
}

export const packageModule: HostModule<PackageResource> = {
  module: "package",
  id: (resource) => resource.name,

  probes(resource) {
    const status = {
      id: "status",
      argv: ["dpkg-query", "-W", "-f", "${Status} ${Version}", resource.name],
    };
    if (resource.state === "absent") return [status];
    return [status, { id: "lists", argv: ["sh", "-c", LISTS_SCRIPT] }];
  },

  diff(resource, results): FieldChange[] {
    const found = installed(results);
    if (resource.state === "absent") {
      return found.installed ? [{ field: "state", from: "present", to: "absent" }] : [];
    }
    if (!found.installed) {
      return [
        { field: "state", from: "absent", to: "present" },
        ...(resource.version === undefined
          ? []
          : [{ field: "version", from: null, to: resource.version }]),
      ];
    }
    if (resource.version !== undefined && found.version !== resource.version) {
      return [{ field: "version", from: found.version ?? null, to: resource.version }];
    }
    return [];
  },

  apply(resource, changes, results) {
    return packageModule.merge!([{ resource, changes, results }]);
  },

  merge(items: readonly PlannedResource<PackageResource>[]): ApplyStep[] {
    const removes = items.filter((item) => item.resource.state === "absent");
    const installs = items.filter((item) => item.resource.state === "present");
    const steps: ApplyStep[] = [];
    if (installs.some((item) => listsMissing(item.results))) {
      steps.push({ argv: [...APT, "update"] });
    }
    if (removes.length > 0) {
      steps.push({ argv: [...APT, "remove", "-y", ...removes.map((i) => i.resource.name)] });
    }
    if (installs.length > 0) {
      // A pinned version may be older than the one installed: apt-get refuses that unless told.
      const pinned = installs.some((item) => item.resource.version !== undefined);
      steps.push({
        argv: [
          ...APT,
          "install",
          "-y",
          "--no-install-recommends",
          ...(pinned ? ["--allow-downgrades"] : []),
          ...installs.map((item) => installName(item.resource)),
        ],
      });
    }
    return steps;
  },

  removal: (resource) => {
    const { version: _version, ...rest } = resource;
    return { ...rest, state: "absent" };
  },
};
