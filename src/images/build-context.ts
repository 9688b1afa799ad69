import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { BuildSpec } from "../definition/index.js";
import { readDockerignore } from "./dockerignore.js";
import { ImageError } from "./errors.js";
import { TarWriter } from "./tar-writer.js";

export interface BuildContext {
  /** The context as the engine takes it: a tar of the files .dockerignore leaves in. */
  readonly tar: Buffer;
  /** sha256 (hex) of the tar and of what else shapes the image (Dockerfile path, args, labels). */
  readonly digest: string;
  readonly files: number;
}

/**
 * The build context of an app: its folder minus `.dockerignore`, in a stable order with
 * fixed times and owners (Baton's state directory and the definition left out), so that the same files always give the same digest (the
 * version of a release) and an edit anywhere in it gives another.
 */
export function packContext(build: BuildSpec, exclude: readonly string[] = []): BuildContext {
  // The state directory and the definition file are Baton's, never the image's content.
  const left = new Set(exclude);
  const rules = readDockerignore(join(build.context, ".dockerignore"));
  const dockerfile = relative(build.context, join(build.context, build.dockerfile))
    .split(sep)
    .join("/");
  const tar = new TarWriter();
  let files = 0;
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (error) {
      throw unreadable(dir, error);
    }
    for (const name of names) {
      const absolute = join(dir, name);
      if (left.has(absolute)) continue;
      const path = relative(build.context, absolute).split(sep).join("/");
      // The engine needs the Dockerfile even when .dockerignore names it, as `docker build` does.
      const excluded = rules.excludes(path) && path !== dockerfile;
      let stats: ReturnType<typeof lstatSync>;
      try {
        stats = lstatSync(absolute);
      } catch (error) {
        throw unreadable(absolute, error);
      }
      if (stats.isDirectory()) {
        if (excluded && !rules.hasExceptions && !dockerfile.startsWith(`${path}/`)) continue;
        if (!excluded) tar.add({ type: "directory", path, mode: stats.mode });
        walk(absolute);
      } else if (excluded) {
      } else if (stats.isFile()) {
        tar.add({ type: "file", path, mode: stats.mode, data: readFile(absolute) });
        files++;
      } else if (stats.isSymbolicLink()) {
        tar.add({ type: "symlink", path, target: readlinkSync(absolute) });
        files++;
      }
      // Sockets, fifos and devices are not content: left out, as `docker build` does.
    }
  };
  walk(build.context);
  const bytes = tar.finish();
  const digest = createHash("sha256")
    .update(bytes)
    .update(
      JSON.stringify({
        dockerfile: build.dockerfile,
        args: sorted(build.args),
        labels: sorted(build.labels),
      }),
    )
    .digest("hex");
  return { tar: bytes, digest, files };
}

function readFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw unreadable(path, error);
  }
}

function unreadable(path: string, error: unknown): ImageError {
  return new ImageError(
    "build.context_unreadable",
    `cannot read ${path} of the build context: ${(error as Error).message}`,
    "fix its permissions, or leave it out with .dockerignore",
  );
}

function sorted(record: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
