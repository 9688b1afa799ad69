/**
 * The folders and files of a definition as a client uploaded them: what the loader reads on
 * a controller instead of the disk. A path the client did not send is an error naming it,
 * never a look at this machine's disk.
 */
import { posix } from "node:path";
import type { DefinitionContent, DefinitionFiles, PathKind } from "../definition/index.js";
import { ContentError } from "../util/content-errors.js";
import {
  contentDigest,
  fileDigests,
  type Manifest,
  type ManifestEntry,
  ManifestError,
  parseManifest,
  selectEntries,
} from "../util/content-manifest.js";
import type { BlobStore } from "./blob-store.js";

/** Symlinks followed inside an uploaded folder before a path counts as unresolvable. */
const MAX_LINKS = 40;

export class BlobFiles implements DefinitionFiles {
  private readonly manifests = new Map<string, Manifest>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly content: DefinitionContent,
  ) {}

  /**
   * The blobs the content names that are not here, each with the path it was sent for: an
   * apply checks there are none before it parses, so that snapshots can be made.
   */
  missing(): { path: string; digest: string }[] {
    const missing: { path: string; digest: string }[] = [];
    for (const [path, digest] of Object.entries(this.content.files)) {
      if (!this.blobs.has(digest)) missing.push({ path, digest });
    }
    for (const [folder, digest] of Object.entries(this.content.folders)) {
      if (!this.blobs.has(digest)) {
        missing.push({ path: folder, digest });
        continue;
      }
      const manifest = this.manifest(folder);
      const absent = new Set(this.blobs.missing(fileDigests(manifest)));
      for (const entry of manifest.entries) {
        if (entry.digest !== undefined && absent.has(entry.digest)) {
          missing.push({ path: posix.join(folder, entry.path), digest: entry.digest });
        }
      }
    }
    return missing;
  }

  kind(path: string): PathKind | undefined {
    if (this.content.folders[path] !== undefined) return "dir";
    if (this.content.files[path] !== undefined) return "file";
    const found = this.inFolder(path);
    if (found.entry === undefined) return found.root ? "dir" : undefined;
    return found.entry.kind === "dir" ? "dir" : "file";
  }

  folder(
    dir: string,
    options: { readonly ignore: readonly string[]; readonly exclude: readonly string[] },
  ): { digest: string; manifest: string } {
    const digest = this.content.folders[dir];
    if (digest === undefined) throw notSent(dir, "folder");
    return {
      digest: contentDigest(selectEntries(this.manifest(dir), dir, options)),
      manifest: digest,
    };
  }

  readText(path: string): string {
    const own = this.content.files[path];
    if (own !== undefined) return this.blobs.read(own, path).toString("utf8");
    const { entry } = this.inFolder(path);
    if (entry?.kind !== "file" || entry.digest === undefined) throw notSent(path, "file");
    return this.blobs.read(entry.digest, path).toString("utf8");
  }

  /** The manifest of a folder that was sent; throws a ContentError when it cannot be read. */
  private manifest(folder: string): Manifest {
    const digest = this.content.folders[folder];
    if (digest === undefined) throw notSent(folder, "folder");
    let manifest = this.manifests.get(digest);
    if (manifest === undefined) {
      try {
        manifest = parseManifest(this.blobs.read(digest, `the manifest of ${folder}`));
      } catch (error) {
        if (!(error instanceof ManifestError)) throw error;
        throw new ContentError(
          "content.invalid_manifest",
          `the manifest ${digest} sent for ${folder} is not one: ${error.message}`,
          "send each folder as the manifest the CLI writes (path, kind, mode, size, digest of each entry)",
        );
      }
      this.manifests.set(digest, manifest);
    }
    return manifest;
  }

  /**
   * `path` inside one of the folders sent: its entry (links followed), `root` when it is
   * the folder itself. Throws when no folder sent holds it.
   */
  private inFolder(path: string): { entry?: ManifestEntry; root?: boolean } {
    let wanted = posix.normalize(path);
    for (let links = 0; links <= MAX_LINKS; links++) {
      const folder = this.holder(wanted);
      if (folder === undefined) throw notSent(path, "path");
      if (folder === wanted) return { root: true };
      const inside = wanted.slice(folder === "/" ? 1 : folder.length + 1);
      const entry = this.manifest(folder).entries.find((e) => e.path === inside);
      if (entry?.kind !== "symlink") return entry === undefined ? {} : { entry };
      wanted = posix.resolve(posix.dirname(wanted), entry.target ?? "");
    }
    return {};
  }

  /** The innermost folder sent that holds `path`, or is it. */
  private holder(path: string): string | undefined {
    let best: string | undefined;
    for (const folder of Object.keys(this.content.folders)) {
      const inside = folder === "/" || path === folder || path.startsWith(`${folder}/`);
      if (inside && (best === undefined || folder.length > best.length)) best = folder;
    }
    return best;
  }
}

function notSent(path: string, what: "folder" | "file" | "path"): ContentError {
  return new ContentError(
    "content.not_sent",
    `the definition reads ${what === "path" ? "" : `the ${what} `}${path}, which was not sent with it`,
    "send every folder and file the definition names (app cwds, build contexts, templates) as `folders` and `files`; `baton apply` does",
  );
}
