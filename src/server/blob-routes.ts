/**
 * The blob doors: a client asks which of a definition's blobs the controller lacks
 * (`POST /api/v1/blobs/missing`) and uploads only those (`PUT /api/v1/blobs/sha256:<hex>`,
 * the raw bytes). They answer before a controller runs, so that `baton up` can ship the
 * first definition's files to the controller it just started.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type BlobStore, MAX_BLOB_BYTES } from "../store/index.js";
import { ContentError } from "../util/content-errors.js";
import { BLOB_DIGEST } from "../util/content-manifest.js";
import { sendJson } from "../util/json-http.js";
import { HttpError } from "./http-error.js";

/** Digests one question may hold: a project of this many files asks in several. */
export const MAX_DIGESTS_PER_QUESTION = 10_000;

const PUT_PATH = /^\/api\/v1\/blobs\/([^/]+)$/;

/** A ContentError as the API answers it: its status from its code (api/status-codes.ts). */
export function contentHttpError(error: ContentError): HttpError {
  return new HttpError(error.code, error.message, { hint: error.hint });
}

/**
 * Answers the request when it is one of the blob routes; false when it is none of theirs.
 * `readJson` reads a bounded JSON body as the server does for every route.
 */
export async function blobRoute(
  blobs: BlobStore,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  readJson: (req: IncomingMessage) => Promise<Record<string, unknown>>,
): Promise<boolean> {
  try {
    if (req.method === "POST" && url.pathname === "/api/v1/blobs/missing") {
      const digests = digestList((await readJson(req)).digests);
      sendJson(res, 200, { missing: blobs.missing(digests) });
      return true;
    }
    const put = PUT_PATH.exec(url.pathname);
    if (put === null || url.pathname === "/api/v1/blobs/missing") return false;
    if (req.method !== "PUT") return false;
    const digest = decodeURIComponent(put[1] ?? "");
    if (!BLOB_DIGEST.test(digest)) {
      throw new HttpError(
        "content.invalid_digest",
        `the blob's name must be sha256: and 64 lowercase hex characters, found ${JSON.stringify(digest)}`,
        { hint: "PUT /api/v1/blobs/sha256:<hex of the sha256 of the bytes>" },
      );
    }
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > MAX_BLOB_BYTES) {
      // Refused before a byte is read: the client need not send a gigabyte to learn it.
      req.resume();
      throw contentHttpError(
        new ContentError(
          "content.too_large",
          `blob ${digest} is ${declared} bytes, more than the ${MAX_BLOB_BYTES} a controller takes`,
          "leave large data out of the app's folder with `ignore:` and keep it in a volume or a path of its own",
        ),
      );
    }
    const stored = await blobs.put(digest, req);
    sendJson(res, stored.created ? 201 : 200, {
      digest,
      size: stored.size,
      created: stored.created,
    });
    return true;
  } catch (error) {
    if (error instanceof ContentError) throw contentHttpError(error);
    throw error;
  }
}

function digestList(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((d) => typeof d !== "string" || !BLOB_DIGEST.test(d))) {
    throw new HttpError(
      "api.invalid_body",
      "expected {digests: [...]} with each digest `sha256:` and 64 lowercase hex characters",
    );
  }
  if (value.length > MAX_DIGESTS_PER_QUESTION) {
    throw new HttpError(
      "api.too_large",
      `at most ${MAX_DIGESTS_PER_QUESTION} digests a question, found ${value.length}`,
      { hint: "ask in several questions" },
    );
  }
  return value as string[];
}
