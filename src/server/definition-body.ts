/**
 * The body of `POST /api/v1/apply` and `/plan`: the definition's text and the folders and
 * files it names, as manifests and blobs the client uploaded first —
 * `{file, source, environment?, appliedBy?, folders: {path: manifest}, files: {path: blob}}`.
 * The controller reads the definition from these alone, never from the caller's disk.
 */
import { isAbsolute } from "node:path";
import type { Definition, DefinitionContent } from "../definition/index.js";
import { type BlobStore, readShippedDefinition } from "../store/index.js";
import { systemAccounts } from "../util/accounts.js";
import { ContentError } from "../util/content-errors.js";
import { BLOB_DIGEST } from "../util/content-manifest.js";
import { contentHttpError } from "./blob-routes.js";
import { HttpError } from "./http-error.js";

export interface DefinitionBody {
  readonly definition: Definition;
  readonly appliedBy: string;
}

export function definitionFromBody(
  body: Record<string, unknown>,
  blobs: BlobStore,
  stateDir: string,
): DefinitionBody {
  if (typeof body.file !== "string" || typeof body.source !== "string") {
    throw new HttpError(
      "api.invalid_body",
      "expected a JSON body with `file` and `source` strings, `folders` and `files` (each path → the digest of its upload) and `environment`, optional",
    );
  }
  const appliedBy = typeof body.appliedBy === "string" ? body.appliedBy : "api";
  const environment = typeof body.environment === "string" ? body.environment : undefined;
  const content: DefinitionContent = {
    folders: pathDigests(body.folders, "folders"),
    files: pathDigests(body.files, "files"),
    ...inRepository(body.inRepository),
  };
  try {
    return {
      definition: readShippedDefinition(
        {
          file: body.file,
          source: body.source,
          content,
          ...(environment === undefined ? {} : { environment }),
        },
        blobs,
        stateDir,
        // Checked here, not when a stored definition is read back at a restart: a user removed
        // since then fails its app's starts, never the controller's.
        systemAccounts,
      ),
      appliedBy,
    };
  } catch (error) {
    if (error instanceof ContentError) throw contentHttpError(error);
    throw error;
  }
}

/** A path inside a working copy: relative, never climbing out of it. */
function inRepository(value: unknown): { inRepository?: string } {
  if (value === undefined) return {};
  if (
    typeof value !== "string" ||
    value === "" ||
    isAbsolute(value) ||
    value.split("/").some((part) => part === "..")
  ) {
    throw new HttpError(
      "api.invalid_body",
      `\`inRepository\` must be the definition's path inside its git working copy (e.g. deploy/baton.yaml), found ${JSON.stringify(value)}`,
    );
  }
  return { inRepository: value };
}

/** `{absolute path: sha256:<hex>}`; absent is none (a definition naming no folder). */
function pathDigests(value: unknown, field: "folders" | "files"): Record<string, string> {
  if (value === undefined) return {};
  const valid =
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    Object.entries(value).every(
      ([path, digest]) =>
        isAbsolute(path) && typeof digest === "string" && BLOB_DIGEST.test(digest),
    );
  if (!valid) {
    throw new HttpError(
      "api.invalid_body",
      `\`${field}\` must map absolute paths to blob digests (sha256: and 64 lowercase hex characters)`,
    );
  }
  return value as Record<string, string>;
}
