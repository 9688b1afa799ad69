import type { Command } from "commander";
import { editorJsonSchema } from "../../definition/index.js";
import { printJson } from "../output.js";

export function schemaCommand(program: Command): void {
  program
    .command("schema")
    .description("print the JSON Schema of baton.yaml, for editors")
    .option("--state <dir>", "accepted for uniformity; unused")
    .action(() => printJson(editorJsonSchema()));
}
