/**
 * A host module (package, file, service…): how one kind of resource is observed on a host,
 * compared with what the definition says, and changed. Modules never talk to a host
 * themselves: they say which commands to run (probes, steps) and read what came back, so
 * that everything one host needs is batched into one round trip to observe and one to
 * apply, and so that each module is tested without a host (fixtures in, commands out).
 */
import type { HostFieldChange as FieldChange } from "../../api/hosts.js";
import type { HostResource } from "../../definition/host-model.js";

/** A command run while observing. Every probe of every resource of a host runs in one exec. */
export interface Probe {
  /** Unique among one resource's probes: the key of its result. */
  readonly id: string;
  readonly argv: readonly string[];
}

export interface ProbeResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One field that differs, for the plan: `mode: 0600 → 0644` (the API's HostFieldChange). */
export type { FieldChange };

/** A command of an apply; `input` goes to its stdin (file content, say). */
export interface ApplyStep {
  readonly argv: readonly string[];
  readonly input?: string | Buffer;
}

export interface HostModule<R extends HostResource = HostResource> {
  readonly module: R["module"];
  /**
   * The resource's identity on its host (a path, a package or user name): two resources of
   * one module with one id on one host are a definition error.
   */
  id(resource: R): string;
  /** What to run to learn the resource's state. */
  probes(resource: R): readonly Probe[];
  /** What differs, from the probes' results (keyed by probe id); [] when in state. */
  diff(resource: R, results: ReadonlyMap<string, ProbeResult>): readonly FieldChange[];
  /** The commands that make the differences go away, in order; run only when diff found some. */
  apply(
    resource: R,
    changes: readonly FieldChange[],
    results: ReadonlyMap<string, ProbeResult>,
  ): readonly ApplyStep[];
  /**
   * The resource that undoes this one when it leaves the definition (the same with
   * `state: absent`, mostly; a sysctl's persisted line for a sysctl); undefined when there is
   * nothing to undo (a command).
   */
  removal(resource: R): HostResource | undefined;
  /**
   * Why a resource found in state is left alone, for the plan when that is not obvious
   * ("skipped: /x exists" for a guarded command); undefined otherwise.
   */
  note?(resource: R, results: ReadonlyMap<string, ProbeResult>): string | undefined;
  /**
   * The steps of several consecutive changed resources of this module as fewer commands
   * (many packages in one apt-get call); the batch runner uses it when present.
   */
  merge?(items: readonly PlannedResource<R>[]): readonly ApplyStep[];
}

/** A resource with what observing it found: what `apply` and `merge` work from. */
export interface PlannedResource<R extends HostResource = HostResource> {
  readonly resource: R;
  readonly changes: readonly FieldChange[];
  readonly results: ReadonlyMap<string, ProbeResult>;
}
