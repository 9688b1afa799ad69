import { describe, expect, it } from "vitest";
import { appRevision, type ImageCommand, parseDefinition } from "../../../src/definition/index.js";
import { withImageCommands } from "../../../src/images/index.js";

const definition = parseDefinition(
  `apps:
  given:
    runtime: docker
    image: shop/web:1
    command: ["node", "server.js"]
    env: { A: x }
  own:
    runtime: docker
    image: shop/web:1
  gone:
    runtime: docker
    image: shop/missing:1
  local:
    command: ["node", "server.js"]
`,
  "/srv/shop/baton.yaml",
);

const IMAGE: ImageCommand = { entrypoint: [], cmd: ["node", "server.js"] };
const read = async (image: string) => (image === "shop/web:1" ? IMAGE : undefined);

describe("withImageCommands", () => {
  it("records what the image runs for a container app without command", async () => {
    const resolved = await withImageCommands(definition, read);
    expect(resolved.apps.own?.container?.imageCommand).toEqual(IMAGE);
  });

  it("makes the image's command part of the app's revision", async () => {
    const resolved = await withImageCommands(definition, read);
    const other = await withImageCommands(definition, async () => ({
      entrypoint: [],
      cmd: ["node", "other.js"],
    }));
    expect(appRevision(resolved.apps.own!)).not.toBe(appRevision(other.apps.own!));
  });

  it("leaves apps with a command, processes and images it cannot read as they were", async () => {
    const resolved = await withImageCommands(definition, read);
    for (const name of ["given", "gone", "local"]) {
      expect(resolved.apps[name]).toBe(definition.apps[name]);
    }
    // A container app that names its command keeps the revision it had before images were read.
    expect(appRevision(resolved.apps.given!)).toBe("7f7bd7d80bb2");
  });
});
