/** `directory`: made with its parents, given a mode and owner; removed only when empty. */
import type { DirectoryResource } from "../../definition/host-model.js";
import type { ApplyStep, HostModule, PlannedResource } from "./module.js";
import { moduleScript } from "./module-script.js";
import {
  attributeChanges,
  attributeStep,
  attributeSteps,
  failStep,
  normalizeMode,
  ownership,
  parseStatLine,
  probeLines,
  statProbeArgv,
} from "./path-state.js";

/** Paths per command: far below any argv limit. */
const CHUNK = 200;

function chunks(paths: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let at = 0; at < paths.length; at += CHUNK) out.push(paths.slice(at, at + CHUNK));
  return out;
}

/**
 * Baton never deletes what it did not make: a directory that still holds files fails its
 * removal with a message, rather than taking the files with it.
 */
const REMOVE_SCRIPT = moduleScript(
  [
    'if [ -n "$(ls -A -- "$1")" ]; then',
    '  printf "%s is not empty: Baton removes only empty directories; empty it first, or mark it keep: true\\n" "$1" >&2',
    "  exit 1",
    "fi",
    'rmdir -- "$1"',
  ].join("\n"),
);

export const directoryModule: HostModule<DirectoryResource> = {
  module: "directory",
  id: (resource) => resource.path,
  probes: (resource) => [{ id: "state", argv: statProbeArgv(resource.path) }],

  diff(resource, results) {
    const facts = parseStatLine(probeLines(results, "state")[0] ?? "");
    if (resource.state === "absent") {
      return facts?.type === "directory" ? [{ field: "state", from: "present", to: "absent" }] : [];
    }
    if (facts === undefined) {
      return [
        { field: "state", from: "absent", to: "present" },
        ...attributeChanges(resource, undefined),
      ];
    }
    if (facts.type !== "directory") return [{ field: "type", from: facts.type, to: "directory" }];
    return attributeChanges(resource, facts);
  },

  apply(resource, changes): ApplyStep[] {
    if (resource.state === "absent") {
      return [{ argv: ["sh", "-c", REMOVE_SCRIPT, "sh", resource.path] }];
    }
    const typeChange = changes.find((change) => change.field === "type");
    if (typeChange !== undefined) {
      return [
        failStep(
          `${resource.path} is a ${typeChange.from}, not a directory: remove it, or change the definition`,
        ),
      ];
    }
    if (changes.some((change) => change.field === "state")) {
      // -m sets the new directory's own mode exactly (the umask aside): no chmod after.
      const mode = resource.mode === undefined ? [] : ["-m", normalizeMode(resource.mode)];
      const mkdir = { argv: ["mkdir", "-p", ...mode, "--", resource.path] };
      const rest = changes.filter((change) => change.field !== "mode");
      return [mkdir, ...attributeSteps("directory", resource.path, rest, resource)];
    }
    return attributeSteps("directory", resource.path, changes, resource);
  },

  /**
   * Consecutive directories share their commands: one mkdir per mode for those to make, one
   * chown per owner and one chmod per mode for the rest (mkdir and chmod are as slow as they
   * are few). A merged command that fails fails every directory it carried. chown is given
   * `-h` and chmod goes through ATTRIBUTE_SCRIPT: neither follows a link swapped in since the
   * observe round trip.
   */
  merge(items: readonly PlannedResource<DirectoryResource>[]): ApplyStep[] {
    const mkdirs = new Map<string, string[]>();
    const chowns = new Map<string, string[]>();
    const chmods = new Map<string, string[]>();
    const own: ApplyStep[] = [];
    const add = (groups: Map<string, string[]>, key: string, path: string) => {
      groups.set(key, [...(groups.get(key) ?? []), path]);
    };
    for (const { resource, changes, results } of items) {
      const fields = new Set(changes.map((change) => change.field));
      if (resource.state === "absent" || fields.has("type")) {
        own.push(...directoryModule.apply(resource, changes, results));
        continue;
      }
      const creating = fields.has("state");
      if (creating)
        add(mkdirs, resource.mode === undefined ? "" : normalizeMode(resource.mode), resource.path);
      const who = ownership(
        fields.has("owner") ? resource.owner : undefined,
        fields.has("group") ? resource.group : undefined,
      );
      if (who !== "") add(chowns, who, resource.path);
      if (!creating && fields.has("mode") && resource.mode !== undefined) {
        add(chmods, normalizeMode(resource.mode), resource.path);
      }
    }
    /** `command [flag] key -- paths…` per key, in chunks. */
    const batched = (head: readonly string[], groups: Map<string, string[]>, flag?: string) =>
      [...groups].flatMap(([key, paths]) =>
        chunks(paths).map((chunk) => ({
          argv: [...head, ...(key === "" ? [] : flag ? [flag, key] : [key]), "--", ...chunk],
        })),
      );
    const modes = [...chmods].flatMap(([mode, paths]) =>
      chunks(paths).map((chunk) => attributeStep("directory", chunk, "", mode)),
    );
    return [
      ...batched(["mkdir", "-p"], mkdirs, "-m"),
      ...batched(["chown", "-h"], chowns),
      ...modes,
      ...own,
    ];
  },

  removal: (resource) => ({ ...resource, state: "absent" }),
};
