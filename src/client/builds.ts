import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { BuildTarget, ReleaseRecord } from "../api/releases.js";
import { type Definition, loadDefinition } from "../definition/index.js";
import {
  buildRelease,
  buildTargetOf,
  type RegistryLogin,
  type ReleaseBook,
} from "../images/index.js";
import { ClientError } from "./errors.js";

// Loaded with the build code only: the age library is not needed by other commands.
export { registryLogin } from "../security/secrets/index.js";

export interface BuiltRelease {
  readonly release: ReleaseRecord;
  /** false: that version (same commit, same content) was built and pushed before. */
  readonly created: boolean;
}

export interface BuildOptions {
  readonly by: string;
  /** The build's progress, a line at a time. */
  readonly output: (line: string) => void;
}

/**
 * Each target's current code built where its source is (this machine's Docker engine),
 * pushed to its registry and recorded in `book` — one after the other.
 */
export async function buildTargets(
  book: ReleaseBook,
  targets: readonly BuildTarget[],
  options: BuildOptions,
  /** The definition's `registry:` login, decrypted here (registryLogin); none: anonymous. */
  login?: RegistryLogin,
): Promise<BuiltRelease[]> {
  const results: BuiltRelease[] = [];
  for (const target of targets) {
    results.push(
      await buildRelease({
        target,
        releases: book,
        createdBy: options.by,
        output: options.output,
        ...(login === undefined ? {} : { login }),
      }),
    );
  }
  return results;
}

/** The build targets of these apps of the definition; every app with `build:` when none. */
export function targetsOf(definition: Definition, apps: readonly string[]): BuildTarget[] {
  return apps.map((app) => buildTargetOf(definition, app));
}

/**
 * The definition of `file` for `env`, once it is known to have `app` with `build:`: what
 * `baton deploy APP` builds when the controller does not run that very file.
 */
export function builtAppDefinition(
  app: string,
  file: string,
  stateDir: string,
  environment: string | undefined,
): Definition {
  const definition = loadDefinition(file, {
    exclude: [resolve(stateDir)],
    ...(environment === undefined ? {} : { environment }),
  });
  const spec = definition.apps[app];
  if (spec?.build !== undefined) return definition;
  throw new ClientError(
    spec === undefined ? "deploy.unknown_app" : "deploy.not_built",
    spec === undefined
      ? `there is no app named ${JSON.stringify(app)} in ${definition.file}`
      : `${app} has no \`build:\`: its image is named in the definition, not released by Baton`,
    spec === undefined
      ? `apps: ${Object.keys(definition.apps).join(", ") || "none"}`
      : "edit its `image:` instead",
  );
}

/** Whether `file`'s text is the definition whose hash a controller runs. */
export function isAppliedFile(file: string, appliedFile: string, hash: string): boolean {
  if (resolve(file) !== appliedFile) return false;
  try {
    return createHash("sha256").update(readFileSync(file, "utf8")).digest("hex") === hash;
  } catch {
    return false; // the loader says what is wrong with the file
  }
}
