import { existsSync } from "node:fs";
import type { AppSpec, Definition, ImageCommand } from "../definition/index.js";
import { DockerEngine } from "../runtime/docker/index.js";

/** Reads an image's ENTRYPOINT and CMD; undefined when the image cannot be inspected. */
export type ImageCommandReader = (image: string) => Promise<ImageCommand | undefined>;

interface ImageInspect {
  readonly Config?: { readonly Entrypoint?: string[] | null; readonly Cmd?: string[] | null };
}

/**
 * The definition with each container app that has no `command` told what its image runs
 * (`container.imageCommand`): the image's CMD is then part of the app's revision as a written
 * command is, and a plan shows it. An image that cannot be inspected (not built or pulled yet,
 * no engine) leaves the app as it is: its replicas fail to start with the engine's reason.
 */
export async function withImageCommands(
  definition: Definition,
  read: ImageCommandReader,
): Promise<Definition> {
  const apps: Record<string, AppSpec> = { ...definition.apps };
  let changed = false;
  await Promise.all(
    Object.values(definition.apps).map(async (spec) => {
      const container = spec.container;
      if (container === undefined || spec.command !== undefined) return;
      const imageCommand = await read(container.image);
      if (imageCommand === undefined) return;
      apps[spec.name] = { ...spec, container: { ...container, imageCommand } };
      changed = true;
    }),
  );
  return changed ? { ...definition, apps } : definition;
}

/**
 * Reads image configs from the engine. A digest-pinned image never changes, so its answer is
 * kept; a tag may be moved to another image and is asked again each time.
 */
export function engineImageCommands(engine: DockerEngine = new DockerEngine()): ImageCommandReader {
  const pinned = new Map<string, ImageCommand>();
  return async (image) => {
    const known = pinned.get(image);
    if (known !== undefined) return known;
    if (!existsSync(engine.socketPath)) return undefined;
    let inspect: ImageInspect;
    try {
      inspect = await engine.call<ImageInspect>(
        "GET",
        `/images/${encodeURIComponent(image)}/json`,
        undefined,
        10_000,
      );
    } catch {
      return undefined;
    }
    const command: ImageCommand = {
      entrypoint: inspect.Config?.Entrypoint ?? [],
      cmd: inspect.Config?.Cmd ?? [],
    };
    if (image.includes("@sha256:")) pinned.set(image, command);
    return command;
  };
}
