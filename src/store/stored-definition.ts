/**
 * A definition read on a controller: its text, and the folders and files it names as the
 * client uploaded them. The same whether a client just sent it or the controller reads its
 * last generation back after a restart with no client around.
 */
import { resolve } from "node:path";
import { type Definition, type DefinitionContent, parseDefinition } from "../definition/index.js";
import type { Accounts } from "../util/accounts.js";
import { ContentError } from "../util/content-errors.js";
import { BlobFiles } from "./blob-files.js";
import type { BlobStore } from "./blob-store.js";

export interface ShippedDefinition {
  /** The definition file's absolute path as the client wrote it: positions and paths start there. */
  readonly file: string;
  readonly source: string;
  readonly environment?: string;
  readonly content: DefinitionContent;
}

/** Blobs named in the error when some are missing; the rest are counted. */
const NAMED_MISSING = 5;

/**
 * Parses `shipped` against the uploaded content (a SpecError for a bad definition, a
 * ContentError for content missing or not sent); `stateDir` is never part of an app's files.
 */
export function readShippedDefinition(
  shipped: ShippedDefinition,
  blobs: BlobStore,
  stateDir: string,
  /** Given when applying or planning: `user:` must name a user of this machine. */
  accounts?: Accounts,
): Definition {
  const files = new BlobFiles(blobs, shipped.content);
  const missing = files.missing();
  if (missing.length > 0) {
    const named = missing.slice(0, NAMED_MISSING).map((m) => `${m.path} (${m.digest})`);
    const more =
      missing.length > NAMED_MISSING ? ` and ${missing.length - NAMED_MISSING} more` : "";
    throw new ContentError(
      "content.blobs_missing",
      `${missing.length} blob(s) of the definition's files were not uploaded: ${named.join(", ")}${more}`,
      "upload what `POST /api/v1/blobs/missing` names, then apply again (the CLI does both)",
    );
  }
  const definition = parseDefinition(shipped.source, shipped.file, {
    exclude: [resolve(stateDir)],
    files,
    ...(shipped.environment === undefined ? {} : { environment: shipped.environment }),
    ...(accounts === undefined ? {} : { accounts }),
  });
  return Object.freeze({ ...definition, content: shipped.content });
}
