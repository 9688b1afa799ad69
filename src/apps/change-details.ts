import { existsSync } from "node:fs";
import { type AppSpec, appRevision, type Definition } from "../definition/index.js";
import type { Change, FieldChange } from "../engine/index.js";
import { treeEntries } from "../util/file-tree.js";
import { appChanges, compareTrees, type FileChanges } from "./app-changes.js";
import { isAppKind } from "./scheduled-resources.js";
import type { Snapshots } from "./snapshots.js";

/** Where a plan finds what a revision was made of and the files it ran. */
export interface RevisionSources {
  /** The spec an app's revision ran with, as the store keeps it; undefined if not kept. */
  readonly specOf: (app: string, revision: string) => AppSpec | undefined;
  readonly snapshots: Snapshots;
}

/** `specOf` over the store's records of app revisions, each parsed once. */
export function storedSpecs(
  lookup: (app: string, revision: string) => { readonly spec: string } | undefined,
): RevisionSources["specOf"] {
  const parsed = new Map<string, AppSpec | undefined>();
  return (app, revision) => {
    const key = `${app}\0${revision}`;
    if (!parsed.has(key)) {
      const stored = lookup(app, revision);
      parsed.set(key, stored === undefined ? undefined : (JSON.parse(stored.spec) as AppSpec));
    }
    return parsed.get(key);
  };
}

/**
 * What changes inside an app that a plan replaces: its running revision (the one most
 * replicas run, when a rollout left several) compared with the one it moves to. Nothing
 * when either revision's spec is unknown: the plan's reason still names both revisions.
 */
export async function explainAppChange(
  change: Change,
  definition: Definition,
  sources: RevisionSources,
): Promise<FieldChange[]> {
  const { kind, name } = change.key;
  const given = definition.apps[name];
  if (given === undefined || !isAppKind(kind, given.runtime)) return [];
  const target = change.desired?.revision;
  const running = change.observed?.revisions
    .filter((r) => r.revision !== target)
    .sort((a, b) => b.size - a.size)[0];
  if (target === undefined || running === undefined) return [];
  // A pinned or rolled-back app moves to a stored revision, not to the definition's.
  const to = appRevision(given) === target ? given : sources.specOf(name, target);
  const from = sources.specOf(name, running.revision);
  if (from === undefined || to === undefined) return [];
  return appChanges(from, to, await fileChanges(name, from, to, sources));
}

/**
 * The app folder of `from` as its replicas run it (its snapshot, or artifact) against `to`'s:
 * its snapshot when the apply made it, else what the snapshot will hold. Undefined when the
 * folder did not change or one side cannot be read.
 */
async function fileChanges(
  app: string,
  from: AppSpec,
  to: AppSpec,
  sources: RevisionSources,
): Promise<FileChanges | undefined> {
  if (from.contentDigest === to.contentDigest || from.contentDigest === "") return undefined;
  if (to.contentDigest === "") return undefined;
  const before = sources.snapshots.dir(app, from);
  if (!existsSync(before)) return undefined;
  try {
    const after = await sources.snapshots.plannedEntries(app, to);
    if (after === undefined) return undefined;
    return compareTrees(await treeEntries(before), after);
  } catch {
    // A folder gone or unreadable since the definition was read: the plan names the digests.
    return undefined;
  }
}
