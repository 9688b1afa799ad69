import { constants } from "node:fs";
import { chmod, copyFile, mkdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { findFiles } from "./find-files.js";

export interface CollectedArtifacts {
  /** Paths relative to the checkout (and to the artifacts dir), sorted. */
  readonly artifacts: string[];
  readonly problems: string[];
}

/** Copies the checkout's files matching `patterns` into `artifactsDir`, same relative paths. */
export async function collectArtifacts(
  checkout: string,
  patterns: readonly string[],
  artifactsDir: string,
): Promise<CollectedArtifacts> {
  const problems: string[] = [];
  if (patterns.length === 0) return { artifacts: [], problems };
  let found: ReturnType<typeof findFiles>;
  try {
    found = findFiles(checkout, patterns);
  } catch (error) {
    return { artifacts: [], problems: [`artifacts: ${messageOf(error)}`] };
  }
  for (const link of found.symlinks) {
    problems.push(`artifact ${link} is a symlink: not kept (copy the file itself there)`);
  }
  const artifacts: string[] = [];
  for (const file of found.files) {
    try {
      const target = join(artifactsDir, file);
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      await copyFile(join(checkout, file), target, constants.COPYFILE_FICLONE);
      // The copy has the source's mode: kept for its owner only, as all under the state dir.
      await chmod(target, (await stat(target)).mode & 0o700);
      artifacts.push(file);
    } catch (error) {
      problems.push(`artifact ${file} was not kept: ${messageOf(error)}`);
    }
  }
  if (artifacts.length === 0 && problems.length === 0) {
    problems.push(`artifacts: no file matches ${patterns.join(", ")}`);
  }
  return { artifacts, problems };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
