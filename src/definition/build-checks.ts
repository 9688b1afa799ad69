/**
 * Rules of `build:` that the schema cannot express: it replaces `image`, needs a registry to
 * push to, and its context and Dockerfile must be on disk. Like checks.ts, it reads the raw
 * YAML values defensively so that every problem is reported at once.
 */

import { resolve } from "node:path";
import type { Report } from "./checks.js";
import { isFields } from "./fields.js";
import type { DefinitionFiles } from "./files.js";
import { formatPath, type Path } from "./phrases.js";

type Fields = Readonly<Record<string, unknown>>;

export function checkBuild(
  app: Fields,
  path: Path,
  hasRegistry: boolean,
  { dir, files }: { readonly dir: string; readonly files: DefinitionFiles },
  report: Report,
): void {
  const build = app.build;
  if (build === undefined) return;
  const at = [...path, "build"];
  if (app.image !== undefined) {
    report(
      "spec.conflicting_fields",
      [...path, "image"],
      "key",
      `${formatPath(path)} has both \`build\` and \`image\`: its image is either built or named`,
      "remove `image` to run the built image, or `build` to run the named one",
    );
  }
  if (app.runtime === "process") {
    report(
      "spec.conflicting_fields",
      [...path, "runtime"],
      "value",
      `${formatPath(path)} builds an image (\`build\`), which runs as containers, not processes`,
      "remove `runtime: process` (build implies runtime: docker)",
      { expected: "runtime: docker", found: "runtime: process" },
    );
  }
  if (!hasRegistry) {
    report(
      "spec.missing_field",
      at,
      "key",
      `${formatPath(at)} needs a registry to push the built image to, and the definition has no \`registry\``,
      "add a top-level `registry: 127.0.0.1:5000` (a local `docker-registry` serves there)",
      { expected: "a top-level registry", found: "none" },
    );
  }
  // Neither a path nor a mapping: the schema has said so, and there is nothing to look for.
  if (typeof build !== "string" && !isFields(build)) return;
  const fields: Fields = typeof build === "string" ? { context: build } : build;
  const contextPath = typeof build === "string" ? at : [...at, "context"];
  const context = typeof fields.context === "string" ? fields.context : ".";
  const absolute = resolve(dir, context);
  const kind = files.kind(absolute);
  if (kind !== "dir") {
    report(
      "spec.context_missing",
      typeof build === "string" || fields.context !== undefined ? contextPath : at,
      "value",
      `the build context \`${context}\` of ${formatPath(path)} ${kind === undefined ? "does not exist" : "is not a directory"}`,
      `create the folder or fix the path; it resolves to ${absolute}`,
      { expected: "an existing directory", found: absolute },
    );
    return;
  }
  const dockerfile = typeof fields.dockerfile === "string" ? fields.dockerfile : "Dockerfile";
  const file = resolve(absolute, dockerfile);
  if (files.kind(file) !== "file") {
    report(
      "spec.dockerfile_missing",
      fields.dockerfile !== undefined ? [...at, "dockerfile"] : contextPath,
      "value",
      `${formatPath(path)} builds from ${file}, which does not exist`,
      fields.dockerfile !== undefined
        ? "fix `dockerfile` (relative to the build context)"
        : "write a Dockerfile in the build context, or name it with `dockerfile:`",
      { expected: "a Dockerfile", found: file },
    );
  }
}
