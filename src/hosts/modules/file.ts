/**
 * `file`: a file's content, mode, owner and group. The probe sends the file's sha256 side
 * only when it differs from the definition's (the content itself only then, and never for a
 * secret), so a host in state answers with a few bytes per file.
 */
import { createHash } from "node:crypto";
import type { FileResource } from "../../definition/host-model.js";
import type { ApplyStep, FieldChange, HostModule, ProbeResult } from "./module.js";
import { moduleScript, PATH_HELPERS } from "./module-script.js";
import {
  atomicWriteStep,
  attributeChanges,
  attributeSteps,
  failStep,
  type PathState,
  parseStatLine,
  probeLines,
  rewriteAttributes,
} from "./path-state.js";
import { unifiedDiff } from "./unified-diff.js";

/** $1 path, $2 the wanted sha256, $3 "no-content" to never send the content (a secret). */
const PROBE_SCRIPT = moduleScript(
  [
    PATH_HELPERS,
    'if baton_stat "$1"; then',
    '  if [ -f "$1" ] && [ ! -L "$1" ]; then',
    '    if baton_sha256 "$1"; then',
    '      if [ "$baton_h" = "$2" ]; then echo same',
    '      elif [ "$3" = no-content ]; then echo differs',
    '      else echo content; base64 -w0 < "$1" && echo; fi',
    "    else false; fi",
    "  fi",
    "else false; fi",
  ].join("\n"),
  { stats: true, hashes: true, inShell: true },
);

export const SECRET_MASK = "(secret, changed)";

export function sha256(content: string | Buffer): string {
  return createHash("sha256").update(content).digest("hex");
}

/** How a content is named in a plan's from/to: its size and the start of its hash. */
export function describeContent(content: string | Buffer): string {
  const bytes = Buffer.byteLength(content);
  return `${bytes} byte${bytes === 1 ? "" : "s"}, sha256 ${sha256(content).slice(0, 12)}`;
}

/** A file's content as text for a diff, or undefined when it is not text. */
export function asText(bytes: Buffer): string | undefined {
  const text = bytes.toString("utf8");
  if (text.includes("\0") || !Buffer.from(text, "utf8").equals(bytes)) return undefined;
  return text;
}

/** The content change of a file from `old` (undefined: no file) to `wanted`. */
export function contentChange(
  path: string,
  old: Buffer | undefined,
  wanted: string,
  secret: boolean,
): FieldChange {
  if (secret) return { field: "content", from: SECRET_MASK, to: SECRET_MASK, diff: SECRET_MASK };
  const oldText = old === undefined ? "" : asText(old);
  const diff =
    oldText === undefined
      ? "(binary content replaced)"
      : unifiedDiff(oldText, wanted, {
          fromLabel: old === undefined ? "/dev/null" : path,
          toLabel: path,
        });
  return {
    field: "content",
    from: old === undefined ? null : describeContent(old),
    to: describeContent(wanted),
    diff,
  };
}

interface FileObservation {
  readonly facts: PathState;
  /** "same"; "differs" (secret); or the current bytes. */
  readonly content: "same" | "differs" | Buffer | undefined;
}

function observe(results: ReadonlyMap<string, ProbeResult>): FileObservation {
  const lines = probeLines(results, "state");
  const facts = parseStatLine(lines[0] ?? "");
  if (facts?.type !== "file") return { facts, content: undefined };
  const verdict = lines[1];
  if (verdict === undefined) return { facts, content: undefined };
  if (verdict === "same" || verdict === "differs") return { facts, content: verdict };
  if (verdict === "content") return { facts, content: Buffer.from(lines[2] ?? "", "base64") };
  throw new Error(`unexpected file probe output: ${JSON.stringify(lines.slice(0, 2))}`);
}

/**
 * A secret file with no mode is readable by its owner only: 0644 would hand the secret to
 * every user of the host (issue 19).
 */
export const SECRET_FILE_MODE = "0600";

function wantedAttributes(resource: FileResource): {
  mode?: string;
  owner?: string;
  group?: string;
} {
  const mode = resource.mode ?? (resource.secret ? SECRET_FILE_MODE : undefined);
  return {
    ...(mode === undefined ? {} : { mode }),
    ...(resource.owner === undefined ? {} : { owner: resource.owner }),
    ...(resource.group === undefined ? {} : { group: resource.group }),
  };
}

export const fileModule: HostModule<FileResource> = {
  module: "file",
  id: (resource) => resource.path,

  probes: (resource) => [
    {
      id: "state",
      argv: [
        "sh",
        "-c",
        PROBE_SCRIPT,
        "sh",
        resource.path,
        resource.state === "present" ? sha256(resource.content) : "-",
        // A secret's content never leaves the host; a file to remove needs none either.
        resource.secret || resource.state === "absent" ? "no-content" : "",
      ],
    },
  ],

  diff(resource, results) {
    const { facts, content } = observe(results);
    if (resource.state === "absent") {
      return facts === undefined ? [] : [{ field: "state", from: "present", to: "absent" }];
    }
    if (facts !== undefined && facts.type !== "file" && facts.type !== "symlink") {
      return [{ field: "type", from: facts.type, to: "file" }];
    }
    const changes: FieldChange[] = [];
    if (facts === undefined || facts.type === "symlink") {
      changes.push(contentChange(resource.path, undefined, resource.content, resource.secret));
    } else if (content !== "same") {
      const old = content instanceof Buffer ? content : undefined;
      changes.push(contentChange(resource.path, old, resource.content, resource.secret));
    }
    const existing = facts?.type === "file" ? facts : undefined;
    return [...changes, ...attributeChanges(wantedAttributes(resource), existing)];
  },

  apply(resource, changes, results): ApplyStep[] {
    if (resource.state === "absent") return [{ argv: ["rm", "-f", "--", resource.path] }];
    const typeChange = changes.find((change) => change.field === "type");
    if (typeChange !== undefined) {
      return [
        failStep(
          `${resource.path} is a ${typeChange.from}, not a file: remove it, or change the definition`,
        ),
      ];
    }
    if (changes.some((change) => change.field === "content")) {
      const { facts } = observe(results);
      const { mode, owner } = rewriteAttributes(wantedAttributes(resource), facts);
      return [atomicWriteStep(resource.path, resource.content, mode, owner)];
    }
    return attributeSteps("file", resource.path, changes, wantedAttributes(resource));
  },

  removal: (resource) => ({ ...resource, state: "absent" }),
};
