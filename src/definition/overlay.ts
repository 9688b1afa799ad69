/**
 * Environments as overlays: the definition as one environment sees it is the base definition
 * with the environment's runtime as every app's default and its `overrides` merged in. The
 * merge is done on the raw YAML values, before validation, so that the result is validated
 * like any definition; its positions map back to where each value was written — an invalid
 * override is reported on the override's line, not on the base app's.
 */
import { isFields } from "./fields.js";
import type { Path } from "./phrases.js";
import type { Positions, Span } from "./yaml-source.js";

type Fields = Readonly<Record<string, unknown>>;

/** The names of the environments the raw definition declares, in file order. */
export function environmentNames(raw: Fields): string[] {
  return isFields(raw.environments) ? Object.keys(raw.environments) : [];
}

/** The apps an environment's overrides name, with what each overrides. */
export function overriddenApps(raw: Fields, env: string): Fields {
  const overrides = fieldsAt(raw, ["environments", env, "overrides", "apps"]);
  return overrides ?? {};
}

/**
 * The raw definition as environment `env` sees it. Overrides of apps the base does not define
 * are left out (checks report them), so that they do not turn into apps of their own.
 * In an override a mapping merges into the base's mapping, `null` removes the key, and any
 * other value replaces the base's.
 */
export function overlayRaw(raw: Fields, env: string): Record<string, unknown> {
  const apps = isFields(raw.apps) ? raw.apps : {};
  const runtime = fieldsAt(raw, ["environments", env])?.runtime;
  const overrides = overriddenApps(raw, env);
  const merged: Record<string, unknown> = {};
  for (const [name, app] of Object.entries(apps)) {
    if (!isFields(app)) {
      merged[name] = app;
      continue;
    }
    const base = app.runtime === undefined && runtime !== undefined ? { ...app, runtime } : app;
    const override = overrides[name];
    const overlaid = isFields(override) ? mergeFields(base, override) : { ...base };
    // An app built into an image elsewhere runs from its files where it runs as processes.
    if (overlaid.runtime === "process" && app.runtime === undefined) delete overlaid.build;
    merged[name] = overlaid;
  }
  return { ...raw, apps: merged };
}

function mergeFields(base: Fields, override: Fields): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = result[key];
    if (value === null) delete result[key];
    else if (isFields(value) && isFields(current)) result[key] = mergeFields(current, value);
    else result[key] = value;
  }
  return result;
}

/**
 * Positions of the overlaid definition: a path whose value comes from an override (or from
 * the environment's runtime) points into `environments.ENV`; every other path into the base.
 */
export class OverlayPositions implements Positions {
  constructor(
    private readonly base: Positions,
    private readonly raw: Fields,
    private readonly env: string,
  ) {}

  valueSpan(path: Path): Span {
    return this.base.valueSpan(this.origin(path));
  }

  keySpan(path: Path): Span {
    return this.base.keySpan(this.origin(path));
  }

  scalarSource(path: Path): string | undefined {
    return this.base.scalarSource(this.origin(path));
  }

  /** Whether the value at `path` (or a part of it) was written in the environment's block. */
  fromEnvironment(path: Path): boolean {
    return this.origin(path)[0] === "environments";
  }

  /** Where the value at `path` of the overlaid definition is written in the file. */
  origin(path: Path): Path {
    if (path[0] !== "apps" || path.length < 2) return path;
    const app = String(path[1]);
    const rest = path.slice(2);
    const overridePath = ["environments", this.env, "overrides", "apps", app];
    const override = overriddenApps(this.raw, this.env)[app];
    if (isFields(override)) {
      let node: unknown = override;
      for (let i = 0; i < rest.length; i++) {
        if (!isFields(node)) return [...overridePath, ...rest]; // replaced as a whole
        const segment = String(rest[i]);
        if (!(segment in node)) {
          node = undefined;
          break;
        }
        node = node[segment];
      }
      if (node !== undefined && (!isFields(node) || !existsAt(this.raw, path))) {
        return [...overridePath, ...rest];
      }
    }
    const baseApp = fieldsAt(this.raw, ["apps", app]);
    if (rest[0] === "runtime" && baseApp !== undefined && baseApp.runtime === undefined) {
      return ["environments", this.env, "runtime"];
    }
    return path;
  }
}

function existsAt(raw: Fields, path: Path): boolean {
  let node: unknown = raw;
  for (const segment of path) {
    if (Array.isArray(node) && typeof segment === "number") node = node[segment];
    else if (isFields(node) && String(segment) in node) node = node[String(segment)];
    else return false;
  }
  return true;
}

function fieldsAt(raw: Fields, path: readonly string[]): Fields | undefined {
  let node: unknown = raw;
  for (const segment of path) {
    if (!isFields(node)) return undefined;
    node = node[segment];
  }
  return isFields(node) ? node : undefined;
}
