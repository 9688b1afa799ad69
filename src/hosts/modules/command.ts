/**
 * `command`: runs an argv. Its guards (`creates`, `unless`, `onlyIf`) are probes, so a plan
 * evaluates them and says "would run" or why not, instead of skipping them as a dry run
 * does elsewhere. A handler runs only when notified (see batch.ts runHandlers).
 */
import type { CommandResource } from "../../definition/host-model.js";
import { quoteArgv } from "../quote.js";
import type { FieldChange, HostModule, Probe, ProbeResult } from "./module.js";

/** Why the command is not run, or undefined when it is. */
function skipReason(
  resource: CommandResource,
  results: ReadonlyMap<string, ProbeResult>,
): string | undefined {
  if (resource.handler) return "handler: runs only when notified";
  const code = (id: string): number => {
    const result = results.get(id);
    if (result === undefined) throw new Error(`the probe "${id}" has no result`);
    return result.code;
  };
  if (resource.creates !== undefined && code("creates") === 0) {
    return `skipped: ${resource.creates} exists`;
  }
  if (resource.unless !== undefined && code("unless") === 0) {
    return `skipped: unless (${quoteArgv(resource.unless)}) succeeded`;
  }
  if (resource.onlyIf !== undefined) {
    const exit = code("onlyIf");
    if (exit !== 0)
      return `skipped: onlyIf (${quoteArgv(resource.onlyIf)}) failed with exit ${exit}`;
  }
  return undefined;
}

export const commandModule: HostModule<CommandResource> = {
  module: "command",
  id: (resource) => resource.name,

  probes(resource) {
    if (resource.handler) return [];
    const probes: Probe[] = [];
    if (resource.creates !== undefined) {
      probes.push({ id: "creates", argv: ["test", "-e", resource.creates] });
    }
    if (resource.unless !== undefined) probes.push({ id: "unless", argv: resource.unless });
    if (resource.onlyIf !== undefined) probes.push({ id: "onlyIf", argv: resource.onlyIf });
    return probes;
  },

  diff(resource, results): FieldChange[] {
    if (skipReason(resource, results) !== undefined) return [];
    return [{ field: "run", from: null, to: quoteArgv(resource.argv) }];
  },

  note: (resource, results) => skipReason(resource, results),

  apply: (resource) => [{ argv: resource.argv }],

  // What a command did cannot be known, so it cannot be undone.
  removal: () => undefined,
};
