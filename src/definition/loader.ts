/**
 * baton.yaml → Definition, or a SpecError holding every problem found. The stages run in
 * order and each stops the next only when it must: YAML syntax (nothing reliable to validate
 * after a syntax error), then the schema and the semantic checks together (both report all
 * they find), then the build into the model.
 */

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename, dirname, isAbsolute, relative, resolve } from "node:path";
import { isScalar } from "yaml";
import { policyDiagnostics } from "../security/policy/check.js";
import {
  DEFAULT_ENVIRONMENT,
  parseSecretsFile,
  type SecretsFile,
  secretsFilePath,
} from "../security/secrets/secrets-file.js";
import type { Accounts } from "../util/accounts.js";
import { buildDefinition } from "./build.js";
import { semanticDiagnostics } from "./checks.js";
import { environmentDiagnostics } from "./environment-checks.js";
import { type Diagnostic, SpecError } from "./errors.js";
import { isFields } from "./fields.js";
import { type DefinitionFiles, diskFiles, type PathKind } from "./files.js";
import { schemaDiagnostics } from "./issues.js";
import type { Definition } from "./model.js";
import { environmentNames, OverlayPositions, overlayRaw } from "./overlay.js";
import { describeValue, formatPath, listWords } from "./phrases.js";
import { definitionSchema, EXTENSION_KEY_PATTERN } from "./schema.js";
import { secretDiagnostics, secretReferences } from "./secret-checks.js";
import { closestMatch } from "./suggest.js";
import { syntaxDiagnostics } from "./yaml-errors.js";
import { type Positions, YamlSource } from "./yaml-source.js";

export interface ParseOptions {
  /** Absolute paths left out of every app's content digest (a state directory inside cwd). */
  readonly exclude?: readonly string[];
  /**
   * The environment to build the definition for. Every environment is validated either way;
   * without one, the definition is built as written, with no overlay.
   */
  readonly environment?: string;
  /** Where the folders and files the definition names are read: this machine's disk by default. */
  readonly files?: DefinitionFiles;
  /**
   * Whose `policy:` the definition is held to: the chosen environment's (default), or every
   * environment's (`baton validate` without `--env`). A rule of prod does not stop dev.
   */
  readonly policies?: "chosen" | "all";
  /** The users and groups of the machine the replicas run on, when this is it: `user:` is checked. */
  readonly accounts?: Accounts;
}

/** Reads and parses the definition at `file`. */
export function loadDefinition(file: string, options: ParseOptions = {}): Definition {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new SpecError([readProblem(error, displayPath(file))]);
  }
  return parseDefinition(text, file, options);
}

/**
 * Parses `text` as the definition file `file`: positions in errors name `file`, and relative
 * paths in the definition (cwd) are resolved from its folder.
 */
export function parseDefinition(
  text: string,
  file: string,
  options: ParseOptions = {},
): Definition {
  const absolute = resolve(file);
  const shown = displayPath(file);
  const dir = dirname(absolute);
  const fail = (diagnostics: readonly Diagnostic[]): SpecError =>
    new SpecError(inFileOrder(diagnostics), new Map([[shown, text]]));

  const source = new YamlSource(text);
  const syntax = syntaxDiagnostics(source, shown);
  if (syntax.length > 0) throw fail(syntax);

  const contents = source.document.contents;
  if (contents === null || (isScalar(contents) && contents.value === null)) {
    throw fail([emptyFile(text, shown)]);
  }
  let raw: unknown;
  try {
    raw = source.document.toJS();
  } catch (error) {
    // Only alias abuse gets here (e.g. more expansions than maxAliasCount allows).
    throw fail([
      {
        ...atStart(shown),
        code: "spec.yaml_syntax",
        message: messageOf(error),
        hint: "write the repeated values out instead of nesting aliases",
      },
    ]);
  }
  if (!isFields(raw)) throw fail([notAMapping(raw, source, shown)]);

  const input = withoutExtensions(raw);
  const environments = environmentNames(input);
  const files = options.files ?? diskFiles;
  const secrets = new Map<string, EnvironmentSecrets>();
  const secretsOf = (env: string): EnvironmentSecrets => {
    let read = secrets.get(env);
    if (read === undefined) {
      read = readEnvironmentSecrets(files, dir, env);
      secrets.set(env, read);
    }
    return read;
  };
  const diagnostics = validate(
    input,
    {
      file: shown,
      dir,
      source,
      files,
      appsRunAsWritten: environments.length === 0,
      ...(options.accounts === undefined ? {} : { accounts: options.accounts }),
    },
    environments.length > 0,
  );
  // With environments, a reference is checked against each environment's own secrets.
  if (environments.length === 0)
    diagnostics.push(
      ...checkSecrets(input, shown, source, DEFAULT_ENVIRONMENT, secretsOf(DEFAULT_ENVIRONMENT)),
    );
  for (const env of environments) {
    const positions = new OverlayPositions(source, input, env);
    const overlay = overlayRaw(input, env);
    const overlaid = validate(
      overlay,
      {
        file: shown,
        dir,
        source: positions,
        files,
        appsRunAsWritten: true,
        ...(options.accounts === undefined ? {} : { accounts: options.accounts }),
      },
      true,
    );
    overlaid.push(...checkSecrets(overlay, shown, positions, env, secretsOf(env)));
    diagnostics.push(...onlyIn(env, overlaid, diagnostics));
  }
  if (diagnostics.length > 0) throw fail(diagnostics);
  const chosen = options.environment;
  if (chosen !== undefined && !environments.includes(chosen)) {
    throw fail([unknownEnvironment(chosen, environments, source, shown)]);
  }

  const policed = options.policies === "all" ? environments : chosen === undefined ? [] : [chosen];
  const violations = policed.flatMap((env) =>
    policyDiagnostics(definitionSchema.parse(overlayRaw(input, env)), env, {
      file: shown,
      dir,
      source: new OverlayPositions(source, input, env),
      project: basename(dir),
    }),
  );
  if (violations.length > 0) throw fail(violations);

  const built = chosen === undefined ? input : overlayRaw(input, chosen);
  const parsed = definitionSchema.parse(built);
  const definition = buildDefinition(parsed, {
    file: absolute,
    dir,
    project: basename(dir),
    text,
    hash: createHash("sha256").update(text).digest("hex"),
    source: chosen === undefined ? source : new OverlayPositions(source, input, chosen),
    files,
    environments,
    ...(chosen === undefined ? {} : { environment: chosen }),
    ...(options.exclude === undefined ? {} : { exclude: options.exclude }),
  });
  const used = secretsOf(chosen ?? DEFAULT_ENVIRONMENT);
  return deepFreeze(
    used.content === undefined
      ? definition
      : {
          ...definition,
          secrets: { file: used.file, environment: used.environment, content: used.content },
        },
  );
}

interface EnvironmentSecrets {
  readonly environment: string;
  readonly file: string;
  readonly shown: string;
  readonly content: SecretsFile | undefined;
  /** Why the file is not one, as a diagnostic of the secrets file. */
  readonly problem?: Diagnostic;
}

/** The secrets file of `environment` beside the definition, read through `files`. */
function readEnvironmentSecrets(
  files: DefinitionFiles,
  dir: string,
  environment: string,
): EnvironmentSecrets {
  const file = secretsFilePath(dir, environment);
  const shown = displayPath(file);
  if (kindOf(files, file) !== "file") return { environment, file, shown, content: undefined };
  try {
    return { environment, file, shown, content: parseSecretsFile(files.readText(file), shown) };
  } catch (error) {
    const problem: Diagnostic = {
      ...atStart(shown, 0),
      code: "spec.invalid_secrets_file",
      message: messageOf(error),
      hint: (error as { hint?: string }).hint ?? "restore the file from git",
    };
    return { environment, file, shown, content: undefined, problem };
  }
}

/**
 * What is at `path`; undefined also when it cannot be known: a client sends the secrets file
 * only when it exists, so on a controller a path it did not send is no secrets file.
 */
function kindOf(files: DefinitionFiles, path: string): PathKind | undefined {
  try {
    return files.kind(path);
  } catch {
    return undefined;
  }
}

function checkSecrets(
  input: unknown,
  file: string,
  source: Positions,
  environment: string,
  secrets: EnvironmentSecrets,
): Diagnostic[] {
  const references = secretReferences(input);
  if (references.length === 0) return [];
  if (secrets.problem !== undefined) return [secrets.problem];
  return secretDiagnostics(input, {
    file,
    source,
    environment,
    secretsFile: secrets.shown,
    secrets: secrets.content,
  });
}

/** Schema and semantic problems of a raw definition (the base, or one environment's overlay). */
function validate(
  input: Record<string, unknown>,
  ctx: {
    file: string;
    dir: string;
    source: Positions;
    files: DefinitionFiles;
    appsRunAsWritten: boolean;
    accounts?: Accounts;
  },
  withEnvironments: boolean,
): Diagnostic[] {
  const parsed = definitionSchema.safeParse(input);
  return [
    ...(parsed.success
      ? []
      : schemaDiagnostics(parsed.error.issues, {
          file: ctx.file,
          source: ctx.source,
          raw: input,
          schema: definitionSchema,
        })),
    ...semanticDiagnostics(input, { ...ctx, containerKeysAnywhere: withEnvironments }),
    ...(withEnvironments ? environmentDiagnostics(input, ctx) : []),
  ];
}

/**
 * The problems of environment `env` that the base definition does not have, saying in which
 * environment they are: the same mistake is reported once, not once per environment.
 */
function onlyIn(
  env: string,
  found: readonly Diagnostic[],
  already: readonly Diagnostic[],
): Diagnostic[] {
  const key = (d: Diagnostic): string => `${d.line}:${d.col}:${d.code}`;
  const known = new Set(already.map(key));
  return found
    .filter((d) => !known.has(key(d)))
    .map((d) => ({ ...d, message: `${d.message} (in environment ${env})` }));
}

function unknownEnvironment(
  chosen: string,
  environments: readonly string[],
  source: YamlSource,
  shown: string,
): Diagnostic {
  const guess = closestMatch(chosen, environments);
  const path = environments.length > 0 ? ["environments"] : [];
  return {
    code: "spec.unknown_environment",
    message:
      environments.length > 0
        ? `${shown} declares no environment named ${JSON.stringify(chosen)}`
        : `${shown} declares no environments, so --env ${chosen} cannot be chosen`,
    file: shown,
    ...(environments.length > 0 ? source.keySpan(path) : { line: 0, col: 0, length: 0 }),
    path: formatPath(path),
    expected:
      environments.length > 0 ? `one of ${listWords(environments, "or")}` : "no --env option",
    found: chosen,
    hint:
      guess !== undefined
        ? `did you mean \`--env ${guess}\`?`
        : environments.length > 0
          ? `choose one of ${listWords(environments, "or")}, or declare it under \`environments:\``
          : "leave out --env, or declare environments under `environments:`",
  };
}

/** The path as the user gave it; an absolute path inside the working directory is shortened. */
function displayPath(file: string): string {
  if (!isAbsolute(file)) return file;
  const inCwd = relative(process.cwd(), file);
  return inCwd !== "" && !inCwd.startsWith("..") && !isAbsolute(inCwd) ? inCwd : file;
}

function readProblem(error: unknown, shown: string): Diagnostic {
  const code = error instanceof Error && "code" in error ? String(error.code) : "";
  if (code === "ENOENT") {
    return {
      ...atStart(shown, 0),
      code: "spec.file_not_found",
      message: `${shown} does not exist`,
      hint: "`baton init` writes a starter definition",
    };
  }
  if (code === "EISDIR") {
    return {
      ...atStart(shown, 0),
      code: "spec.file_not_found",
      message: `${shown} is a directory, not a definition file`,
      hint: `pass the definition inside it, e.g. ${shown}/baton.yaml`,
    };
  }
  return {
    ...atStart(shown, 0),
    code: "spec.file_unreadable",
    message: `${shown} cannot be read: ${messageOf(error)}`,
    hint: "check that the file is readable by the user running baton",
  };
}

function emptyFile(text: string, shown: string): Diagnostic {
  return {
    ...atStart(shown, 0),
    code: "spec.empty_file",
    message: text.trim() === "" ? `${shown} is empty` : `${shown} defines nothing`,
    hint: "declare your apps under `apps:`, or run `baton init` to write a starter definition",
  };
}

function notAMapping(raw: unknown, source: YamlSource, shown: string): Diagnostic {
  const expected = "a mapping with keys such as `project` and `apps`";
  const found = describeValue(raw);
  return {
    code: "spec.invalid_type",
    message: `${shown} must hold ${expected}, found ${found}`,
    file: shown,
    ...source.valueSpan([]),
    path: "",
    expected,
    found,
    hint: "start the file with `apps:` and the apps indented below it",
  };
}

/** A diagnostic about the whole file: line 0 shows no excerpt. */
function atStart(file: string, line = 1): Omit<Diagnostic, "code" | "message"> {
  return { file, line, col: line === 0 ? 0 : 1, length: line === 0 ? 0 : 1, path: "" };
}

function inFileOrder(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const unique = diagnostics.filter((d) => {
    const key = `${d.line}:${d.col}:${d.code}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.sort((a, b) => a.line - b.line || a.col - b.col);
}

function withoutExtensions(raw: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(raw).filter(([key]) => !EXTENSION_KEY_PATTERN.test(key)),
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The model's readonly types, enforced at run time too: a definition is a value. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
