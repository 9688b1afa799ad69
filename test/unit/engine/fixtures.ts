import type {
  Change,
  DesiredResource,
  ObservedResource,
  ResourceKey,
} from "../../../src/engine/index.js";

/** A desired app; `deps` are app names. */
export function app(
  name: string,
  revision: string,
  size?: number,
  deps: readonly string[] = [],
): DesiredResource {
  return {
    kind: "app",
    name,
    revision,
    ...(size !== undefined && { size }),
    ...(deps.length > 0 && { dependsOn: deps.map(appKey) }),
    spec: { name },
  };
}

/** An observed app running the given revisions. */
export function running(
  name: string,
  revisions: Record<string, number>,
  deps: readonly string[] = [],
): ObservedResource {
  return {
    kind: "app",
    name,
    revisions: Object.entries(revisions).map(([revision, size]) => ({ revision, size })),
    ...(deps.length > 0 && { dependsOn: deps.map(appKey) }),
  };
}

export function appKey(name: string): ResourceKey {
  return { kind: "app", name };
}

/** A change of the given type, with a dependency list, for plan and executor tests. */
export function change(
  type: Change["type"],
  name: string,
  deps: readonly string[] = [],
  reason: string = type,
): Change {
  if (type === "delete") {
    return { type, key: appKey(name), observed: running(name, { r: 1 }, deps), reason };
  }
  return { type, key: appKey(name), desired: app(name, "r", 1, deps), reason };
}
