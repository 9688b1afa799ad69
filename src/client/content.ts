/**
 * Ships a definition to a controller as content, not paths: every folder and file the
 * definition names (app folders, build contexts, host templates, Dockerfiles) becomes a
 * manifest and content-addressed blobs; the controller says which blobs it lacks and only
 * those are uploaded. What `POST /api/v1/apply` and `/plan` then carry names each folder and
 * file by its digest, so the controller never reads this machine's disk.
 */

import { execFileSync } from "node:child_process";
import { createReadStream, readFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { basename, dirname, resolve } from "node:path";
import type { PlanRequest } from "../api/plan.js";
import {
  type Definition,
  type DefinitionFiles,
  diskFiles,
  type PathKind,
  parseDefinition,
} from "../definition/index.js";
import { ContentError } from "../util/content-errors.js";
import {
  blobDigest,
  contentDigest,
  folderManifest,
  type Manifest,
  manifestBytes,
} from "../util/content-manifest.js";

/** What apply and plan send: the definition and, by digest, what it names on disk. */
export type DefinitionBody = PlanRequest & { readonly appliedBy?: string };

/** Bytes to upload: in memory, or a file read when it is sent. */
export type BlobSource = { readonly bytes: Buffer } | { readonly path: string };

/** The controller's blob doors, as this module uses them. */
export interface ContentTarget {
  /** Those of `digests` the controller does not have. */
  missing(digests: readonly string[]): Promise<string[]>;
  upload(digest: string, source: BlobSource): Promise<void>;
  /** Called once shipping is done: connections kept between uploads may go. */
  close?(): void;
}

export interface ShipOptions {
  /** The state directory of the client's commands: never part of a folder shipped. */
  readonly stateDir?: string;
  readonly appliedBy?: string;
}

/** Digests asked about in one question (the controller takes up to 10 000). */
const QUESTION_SIZE = 5_000;
/** Uploads under way at once. */
const UPLOADS_AT_ONCE = 8;

/**
 * Uploads what the controller lacks of the folders and files `definition` names, and
 * returns the body of an apply or plan of it.
 */
export async function shipDefinition(
  definition: Definition,
  target: ContentTarget,
  options: ShipOptions = {},
): Promise<DefinitionBody> {
  const exclude = [
    ...(options.stateDir === undefined ? [] : [resolve(options.stateDir)]),
    ...Object.values(definition.environmentStates),
  ];
  const read = readContent(definition, exclude);
  const blobs = new Map<string, { source: BlobSource; what: string }>();
  const folders: Record<string, string> = {};
  for (const [dir, manifest] of read.folders) {
    const bytes = manifestBytes(manifest);
    const digest = blobDigest(bytes);
    folders[dir] = digest;
    blobs.set(digest, { source: { bytes }, what: `the manifest of ${dir}` });
    for (const entry of manifest.entries) {
      if (entry.digest === undefined || blobs.has(entry.digest)) continue;
      const path = resolve(dir, entry.path);
      blobs.set(entry.digest, { source: { path }, what: path });
    }
  }
  const files: Record<string, string> = {};
  for (const [path, bytes] of read.files) {
    const digest = blobDigest(bytes);
    files[path] = digest;
    blobs.set(digest, { source: { bytes }, what: path });
  }
  try {
    await uploadMissing(target, blobs);
  } finally {
    target.close?.();
  }
  const inRepository =
    Object.keys(definition.pipelines).length > 0 ? repositoryPath(definition.file) : undefined;
  return {
    file: definition.file,
    source: definition.source,
    ...(definition.environment === undefined ? {} : { environment: definition.environment }),
    ...(options.appliedBy === undefined ? {} : { appliedBy: options.appliedBy }),
    folders,
    files,
    ...(inRepository === undefined ? {} : { inRepository }),
  };
}

/**
 * The folders (as manifests) and files the loader reads for `definition`, found by parsing
 * it again through a view of the disk that notes each read: whatever the checks and the build
 * look at, in every environment, is what the controller will look at.
 */
function readContent(
  definition: Definition,
  exclude: readonly string[],
): { folders: Map<string, Manifest>; files: Map<string, Buffer> } {
  const kinds = new Map<string, PathKind | undefined>();
  const digested = new Map<string, { ignore: readonly string[]; exclude: readonly string[] }[]>();
  const manifests = new Map<string, Manifest>();
  const recorder: DefinitionFiles = {
    kind(path) {
      const kind = diskFiles.kind(path);
      kinds.set(path, kind);
      return kind;
    },
    folder(dir, filter) {
      const key = `${dir}\0${JSON.stringify(filter)}`;
      let manifest = manifests.get(key);
      if (manifest === undefined) {
        manifest = folderManifest(dir, filter);
        manifests.set(key, manifest);
        digested.set(dir, [...(digested.get(dir) ?? []), filter]);
      }
      return { digest: contentDigest(manifest.entries) };
    },
    readText(path) {
      kinds.set(path, "file");
      return diskFiles.readText(path);
    },
  };
  parseDefinition(definition.source, definition.file, {
    exclude,
    files: recorder,
    ...(definition.environment === undefined ? {} : { environment: definition.environment }),
  });

  const folders = new Map<string, Manifest>();
  for (const [dir, filters] of digested) {
    // Several apps in one folder with different `ignore`s: what all of them leave out is left
    // out; the controller narrows the manifest to each app's own filter.
    const manifest =
      filters.length === 1
        ? manifests.get(`${dir}\0${JSON.stringify(filters[0])}`)
        : folderManifest(dir, {
            ignore: common(filters.map((f) => f.ignore)),
            exclude: common(filters.map((f) => f.exclude)),
          });
    if (manifest !== undefined) folders.set(dir, manifest);
  }
  const files = new Map<string, Buffer>();
  for (const [path, kind] of kinds) {
    if (kind === "dir" && !folders.has(path)) folders.set(path, folderManifest(path, { exclude }));
    if (kind === "file") files.set(path, readFileSync(path));
  }
  return { folders, files };
}

/** The items every list holds. */
function common(lists: readonly (readonly string[])[]): string[] {
  const [first = [], ...rest] = lists;
  return first.filter((item) => rest.every((list) => list.includes(item)));
}

async function uploadMissing(
  target: ContentTarget,
  blobs: ReadonlyMap<string, { source: BlobSource; what: string }>,
): Promise<void> {
  const digests = [...blobs.keys()];
  const missing: string[] = [];
  for (let i = 0; i < digests.length; i += QUESTION_SIZE) {
    missing.push(...(await target.missing(digests.slice(i, i + QUESTION_SIZE))));
  }
  // Files before the manifests naming them: a manifest the controller has means its files too.
  const order = missing.sort((a, b) => rank(blobs.get(a)?.source) - rank(blobs.get(b)?.source));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < order.length) {
      const digest = order[next++]!;
      const blob = blobs.get(digest);
      if (blob === undefined) continue;
      try {
        await target.upload(digest, blob.source);
      } catch (error) {
        throw uploadError(blob.what, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(UPLOADS_AT_ONCE, order.length) }, worker));
}

function rank(source: BlobSource | undefined): number {
  return source !== undefined && "path" in source ? 0 : 1;
}

function uploadError(what: string, error: unknown): Error {
  if (!(error instanceof ContentError))
    return error instanceof Error ? error : new Error(String(error));
  if (error.code === "content.digest_mismatch") {
    return new ContentError(
      "content.changed",
      `${what} changed while it was uploaded`,
      "apply again once nothing writes into the app's folder",
    );
  }
  return new ContentError(
    error.code,
    `cannot upload ${what}: ${error.message}`,
    error.hint ?? "see the controller's log",
  );
}

/** `deploy/baton.yaml`: where the definition file is in its git working copy; undefined outside one. */
function repositoryPath(file: string): string | undefined {
  try {
    const prefix = execFileSync("git", ["-C", dirname(file), "rev-parse", "--show-prefix"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    return `${prefix}${basename(file)}`;
  } catch {
    return undefined;
  }
}

/**
 * The blob doors of the controller at `api`, over HTTP with its bearer token. `close` lets
 * the connections kept between uploads go.
 */
export function httpContentTarget(api: string, token: string): ContentTarget & { close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: UPLOADS_AT_ONCE });
  const call = (
    method: string,
    path: string,
    headers: Record<string, string | number>,
    send: (req: import("node:http").ClientRequest) => void,
  ): Promise<Record<string, unknown>> =>
    new Promise((done, fail) => {
      const req = httpRequest(
        `${api}${path}`,
        { method, agent, headers: { authorization: `Bearer ${token}`, ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", fail);
          res.on("end", () => {
            let body: Record<string, unknown> = {};
            try {
              body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
            } catch {
              // An answer that is not JSON is told by its status below.
            }
            const status = res.statusCode ?? 500;
            if (status >= 200 && status < 300) return done(body);
            const error = (body.error ?? {}) as { code?: string; message?: string; hint?: string };
            fail(
              new ContentError(
                error.code ?? `api.http_${status}`,
                error.message ?? `the controller answered HTTP ${status}`,
                error.hint ?? "see the controller's log",
              ),
            );
          });
        },
      );
      req.on("error", fail);
      send(req);
    });
  return {
    async missing(digests) {
      const payload = JSON.stringify({ digests });
      const body = await call(
        "POST",
        "/api/v1/blobs/missing",
        { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
        (req) => req.end(payload),
      );
      const missing = body.missing;
      return Array.isArray(missing)
        ? missing.filter((d): d is string => typeof d === "string")
        : [];
    },
    async upload(digest, source) {
      const path = `/api/v1/blobs/${encodeURIComponent(digest)}`;
      const type = { "content-type": "application/octet-stream" };
      if ("bytes" in source) {
        await call("PUT", path, { ...type, "content-length": source.bytes.length }, (req) =>
          req.end(source.bytes),
        );
        return;
      }
      await call("PUT", path, type, (req) => {
        const stream = createReadStream(source.path);
        stream.on("error", (error) => req.destroy(error));
        stream.pipe(req);
      });
    },
    close() {
      agent.destroy();
    },
  };
}
