/**
 * `POST /api/v1/releases`: the body another environment's controller sends to promote a
 * release here — the release as it recorded it and where it comes from. Checked field by
 * field: a release is immutable, so a malformed one must not be recorded at all.
 */
import type { ReleaseOrigin } from "../controller/release-exchange.js";
import type { NewRelease, ReleaseKind } from "../store/index.js";
import { HttpError } from "./http-error.js";

const KINDS: readonly ReleaseKind[] = ["image", "artifact"];
const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function importedRelease(body: Record<string, unknown>): [NewRelease, ReleaseOrigin] {
  const release = fields(body.release, "release");
  const from = fields(body.from, "from");
  const kind = text(release, "kind");
  if (!KINDS.includes(kind as ReleaseKind)) invalid("release.kind", "image or artifact", kind);
  const digest = text(release, "digest");
  if (!DIGEST.test(digest)) invalid("release.digest", "sha256:<64 hex>", digest);
  const commit = release.commit;
  if (commit !== null && typeof commit !== "string")
    invalid("release.commit", "a commit or null", commit);
  const createdAt = release.createdAt;
  if (typeof createdAt !== "number" || !Number.isFinite(createdAt)) {
    invalid("release.createdAt", "milliseconds since the epoch", createdAt);
  }
  const details = release.details ?? {};
  const number = release.number;
  if (
    number !== undefined &&
    !(typeof number === "number" && Number.isInteger(number) && number > 0)
  ) {
    invalid("release.number", "a whole number ≥ 1", number);
  }
  const run = from.run;
  const pipeline = from.pipeline;
  return [
    {
      app: text(release, "app"),
      version: text(release, "version"),
      ...(typeof number === "number" ? { number } : {}),
      kind: kind as ReleaseKind,
      ref: text(release, "ref"),
      digest,
      commit: commit as string | null,
      definitionRevision: text(release, "definitionRevision"),
      createdAt: createdAt as number,
      createdBy: text(release, "createdBy"),
      details: fields(details, "release.details"),
    },
    {
      environment: text(from, "environment"),
      ...(typeof pipeline === "string" ? { pipeline } : {}),
      ...(typeof run === "number" && Number.isInteger(run) ? { run } : {}),
    },
  ];
}

/**
 * `POST /api/v1/apps/:app/releases`: a release a client built and pushed, recorded as built
 * by the caller. An artifact travels only by promotion (its bytes must be copied): a client
 * records images.
 */
export function recordedRelease(
  app: string,
  body: Record<string, unknown>,
  by: string,
): NewRelease {
  const release = fields(body.release, "release");
  const kind = text(release, "kind");
  if (kind !== "image") invalid("release.kind", "image", kind);
  const digest = text(release, "digest");
  if (!DIGEST.test(digest)) invalid("release.digest", "sha256:<64 hex>", digest);
  const commit = release.commit;
  if (commit !== null && typeof commit !== "string")
    invalid("release.commit", "a commit or null", commit);
  return {
    app,
    version: text(release, "version"),
    kind: "image",
    ref: text(release, "ref"),
    digest,
    commit: commit as string | null,
    definitionRevision: text(release, "definitionRevision"),
    createdBy: by,
    details: fields(release.details ?? {}, "release.details"),
  };
}

function fields(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    invalid(name, "an object", value);
  }
  return value as Record<string, unknown>;
}

function text(of: Record<string, unknown>, key: string): string {
  const value = of[key];
  if (typeof value !== "string" || value === "") invalid(key, "a non-empty string", value);
  return value as string;
}

function invalid(field: string, expected: string, found: unknown): never {
  throw new HttpError(
    "api.invalid_release",
    `${field} must be ${expected}, found ${JSON.stringify(found) ?? "nothing"}`,
  );
}
