/** `symlink`: a link at `path` pointing at `target` (the target need not exist). */
import type { SymlinkResource } from "../../definition/host-model.js";
import type { ApplyStep, HostModule, ProbeResult } from "./module.js";
import { moduleScript } from "./module-script.js";
import { failStep } from "./path-state.js";

/** Prints `link` and the target, or `absent`, `directory`, `file`. */
const PROBE_SCRIPT = moduleScript(
  [
    'if [ -L "$1" ]; then echo link; readlink -- "$1"',
    'elif [ -d "$1" ]; then echo directory',
    'elif [ -e "$1" ]; then echo file',
    "else echo absent; fi",
  ].join("\n"),
);

type LinkState = { kind: "link"; target: string } | { kind: "absent" | "directory" | "file" };

function observe(results: ReadonlyMap<string, ProbeResult>): LinkState {
  const result = results.get("state");
  if (result === undefined) throw new Error('the probe "state" has no result');
  if (result.code !== 0) {
    throw new Error(`the symlink probe failed (exit ${result.code}): ${result.stderr.trim()}`);
  }
  const newline = result.stdout.indexOf("\n");
  const kind = result.stdout.slice(0, newline);
  // The target may hold newlines: only readlink's own final one is dropped.
  if (kind === "link") return { kind, target: result.stdout.slice(newline + 1, -1) };
  if (kind === "absent" || kind === "directory" || kind === "file") return { kind };
  throw new Error(`unexpected symlink probe output: ${JSON.stringify(result.stdout)}`);
}

export const symlinkModule: HostModule<SymlinkResource> = {
  module: "symlink",
  id: (resource) => resource.path,
  probes: (resource) => [{ id: "state", argv: ["sh", "-c", PROBE_SCRIPT, "sh", resource.path] }],

  diff(resource, results) {
    const state = observe(results);
    if (resource.state === "absent") {
      return state.kind === "link" ? [{ field: "state", from: "present", to: "absent" }] : [];
    }
    if (state.kind === "link") {
      return state.target === resource.target
        ? []
        : [{ field: "target", from: state.target, to: resource.target }];
    }
    if (state.kind === "absent") return [{ field: "target", from: null, to: resource.target }];
    return [{ field: "type", from: state.kind, to: "symlink" }];
  },

  apply(resource, changes): ApplyStep[] {
    if (resource.state === "absent") return [{ argv: ["rm", "-f", "--", resource.path] }];
    const typeChange = changes.find((change) => change.field === "type");
    // ln -sfn would put the link inside a real directory; a file it replaces silently.
    if (typeChange?.from === "directory") {
      return [
        failStep(
          `${resource.path} is a directory, not a symlink: remove it, or change the definition`,
        ),
      ];
    }
    return [{ argv: ["ln", "-sfn", "--", resource.target, resource.path] }];
  },

  removal: (resource) => ({ ...resource, state: "absent" }),
};
