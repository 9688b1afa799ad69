/** `directory`: made with its parents, given a mode and owner; removed only when empty. */
import type { DirectoryResource } from "../../spec/host-model.js";
import type { ApplyStep, HostModule } from "./module.js";
import { moduleScript } from "./module-script.js";
import {
  attributeChanges,
  attributeSteps,
  failStep,
  normalizeMode,
  parseStatLine,
  probeLines,
  statProbeArgv,
} from "./path-state.js";

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
      return [mkdir, ...attributeSteps(resource.path, rest, resource)];
    }
    return attributeSteps(resource.path, changes, resource);
  },

  removal: (resource) => ({ ...resource, state: "absent" }),
};
