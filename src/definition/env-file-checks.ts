/**
 * `envFile:` of an app: the file exists, and every line of it reads as Compose would read it
 * (env-file.ts). A problem inside the file points at the file's own line and column, never
 * at its text: a value there may be a secret.
 */
import { dirname, join, resolve } from "node:path";
import { parseEnvFile } from "./env-file.js";
import type { Diagnostic } from "./errors.js";
import type { Fields } from "./fields.js";
import type { DefinitionFiles } from "./files.js";
import { formatPath, type Path } from "./phrases.js";
import type { Positions } from "./yaml-source.js";

export interface EnvFileContext {
  /** The definition file as shown to the user: an env file is shown beside it. */
  readonly file: string;
  readonly dir: string;
  readonly source: Positions;
  readonly files: DefinitionFiles;
}

export function envFileDiagnostics(app: Fields, path: Path, ctx: EnvFileContext): Diagnostic[] {
  const written = app.envFile;
  if (typeof written !== "string" || written === "") return [];
  const at = [...path, "envFile"];
  const absolute = resolve(ctx.dir, written);
  const kind = ctx.files.kind(absolute);
  if (kind !== "file") {
    return [
      {
        code: "spec.env_file_missing",
        message: `${formatPath(at)} \`${written}\` ${kind === undefined ? "does not exist" : "is not a file"}`,
        file: ctx.file,
        ...ctx.source.valueSpan(at),
        path: formatPath(at),
        expected: "a file of KEY=VALUE lines",
        found: absolute,
        hint: `create it or fix the path; it resolves to ${absolute} (relative to the definition's folder)`,
      },
    ];
  }
  const shown = join(dirname(ctx.file), written);
  return parseEnvFile(ctx.files.readText(absolute)).problems.map((problem) => ({
    code: "spec.env_file_invalid",
    message: `${shown}:${problem.line}:${problem.col}: ${problem.message} (${formatPath(at)})`,
    file: shown,
    line: problem.line,
    col: problem.col,
    length: problem.length,
    path: formatPath(at),
    hint: problem.hint,
  }));
}

/** The variables of an app's env file; the checks have found it readable and valid. */
export function envFileVariables(
  written: string | undefined,
  dir: string,
  files: DefinitionFiles,
): Record<string, string> {
  if (written === undefined) return {};
  const parsed = parseEnvFile(files.readText(resolve(dir, written)));
  if (parsed.problems.length > 0) throw new Error(`build: unchecked env file ${written}`);
  return { ...parsed.env };
}
