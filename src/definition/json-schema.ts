/**
 * The editor's view of the schema: JSON Schema (draft 2020-12) generated from the zod schema,
 * descriptions, defaults and examples included, so that completion and hover text in VS Code
 * (redhat.vscode-yaml) are the same documentation as our error messages. `baton schema`
 * prints it.
 */
import { z } from "zod";
import { definitionSchema } from "./schema.js";

const SCHEMA_ID = "https://baton.dev/schema/baton.yaml.json";

export function editorJsonSchema(): object {
  const generated = z.toJSONSchema(definitionSchema, {
    target: "draft-2020-12",
    // What the user writes (defaults are optional), not what the loader produces.
    io: "input",
  });
  return { ...generated, $id: SCHEMA_ID, title: "Baton definition (baton.yaml)" };
}
