/**
 * `lineinfile`: one line of a file the definition does not own whole (a setting in a
 * distribution's config). The file is read, edited here (the regexp is JavaScript's, applied
 * line by line) and written back like `file`: atomically, keeping its mode and owner.
 */
import type { LineInFileResource } from "../../definition/host-model.js";
import { asText, contentChange } from "./file.js";
import type { ApplyStep, FieldChange, HostModule, ProbeResult } from "./module.js";
import { moduleScript } from "./module-script.js";
import {
  atomicWriteStep,
  failStep,
  type PathState,
  parseStatLine,
  probeLines,
  rewriteAttributes,
  STAT_SCRIPT,
} from "./path-state.js";

const PROBE_SCRIPT = moduleScript(
  [`${STAT_SCRIPT} || exit`, 'if [ -f "$1" ]; then base64 -w0 < "$1" || exit; echo; fi'].join("\n"),
  { stats: true },
);

export interface LineEdit {
  readonly line: string;
  readonly regexp?: string;
  readonly state: "present" | "absent";
}

function lineMatcher(edit: LineEdit): (line: string) => boolean {
  if (edit.regexp === undefined) return (line) => line === edit.line;
  let pattern: RegExp;
  try {
    pattern = new RegExp(edit.regexp);
  } catch (error) {
    throw new Error(
      `regexp ${JSON.stringify(edit.regexp)} is invalid: ${(error as Error).message}`,
    );
  }
  return (line) => pattern.test(line);
}

/**
 * The content with the edit made. present: the last line the regexp matches is replaced
 * (as Ansible does), else the line is appended unless already there. absent: every matching
 * line goes.
 */
export function editLines(content: string, edit: LineEdit): string {
  const endsWithNewline = content.endsWith("\n");
  const lines =
    content === "" ? [] : (endsWithNewline ? content.slice(0, -1) : content).split("\n");
  const matches = lineMatcher(edit);
  let result: string[];
  let appended = false;
  if (edit.state === "absent") {
    result = lines.filter((line) => !matches(line));
  } else {
    result = [...lines];
    const last = result.findLastIndex(matches);
    if (last >= 0) result[last] = edit.line;
    else if (!result.includes(edit.line)) {
      result.push(edit.line);
      appended = true;
    }
  }
  if (result.length === 0) return "";
  const text = result.join("\n");
  return endsWithNewline || appended || content === "" ? `${text}\n` : text;
}

interface Observed {
  readonly facts: PathState;
  readonly content: string | undefined;
}

function observe(results: ReadonlyMap<string, ProbeResult>): Observed {
  const lines = probeLines(results, "state");
  const facts = parseStatLine(lines[0] ?? "");
  if (facts?.type !== "file") return { facts, content: undefined };
  const bytes = Buffer.from(lines[1] ?? "", "base64");
  const content = asText(bytes);
  if (content === undefined) throw new Error("the file is not text: lineinfile edits text files");
  return { facts, content };
}

/** The new content, or undefined when nothing changes. */
function wantedContent(resource: LineInFileResource, observed: Observed): string | undefined {
  if (observed.facts === undefined) {
    return resource.state === "present" ? `${resource.line}\n` : undefined;
  }
  const before = observed.content ?? "";
  const after = editLines(before, resource);
  return after === before ? undefined : after;
}

export const lineInFileModule: HostModule<LineInFileResource> = {
  module: "lineinfile",
  id: (resource) => `${resource.path} ${resource.regexp ?? resource.line}`,
  probes: (resource) => [{ id: "state", argv: ["sh", "-c", PROBE_SCRIPT, "sh", resource.path] }],

  diff(resource, results): FieldChange[] {
    const observed = observe(results);
    if (observed.facts !== undefined && observed.facts.type !== "file") {
      if (resource.state === "absent") return [];
      return [{ field: "type", from: observed.facts.type, to: "file" }];
    }
    const after = wantedContent(resource, observed);
    if (after === undefined) return [];
    const before = observed.content === undefined ? undefined : Buffer.from(observed.content);
    return [contentChange(resource.path, before, after, false)];
  },

  apply(resource, changes, results): ApplyStep[] {
    const typeChange = changes.find((change) => change.field === "type");
    if (typeChange !== undefined) {
      return [
        failStep(`${resource.path} is a ${typeChange.from}, not a file: lineinfile edits files`),
      ];
    }
    const observed = observe(results);
    const after = wantedContent(resource, observed);
    if (after === undefined) return [];
    const { mode, owner } = rewriteAttributes({}, observed.facts);
    return [atomicWriteStep(resource.path, after, mode, owner)];
  },

  removal: (resource) => ({ ...resource, state: "absent" }),
};
