import { describe, expect, it } from "vitest";
import { editorJsonSchema } from "../../../src/definition/index.js";

type JsonObject = { [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Every property schema in the document, with its dotted path. */
function properties(node: unknown, path = ""): [string, JsonObject][] {
  if (!isObject(node)) return [];
  const found: [string, JsonObject][] = [];
  const children: [string, unknown][] = [];
  if (isObject(node.properties)) children.push(...Object.entries(node.properties));
  if (isObject(node.additionalProperties)) children.push(["*", node.additionalProperties]);
  for (const [key, child] of children) {
    const childPath = path === "" ? key : `${path}.${key}`;
    if (isObject(child)) found.push([childPath, child]);
    found.push(...properties(child, childPath));
  }
  return found;
}

describe("the editor JSON Schema", () => {
  const schema = editorJsonSchema() as JsonObject;

  it("is draft 2020-12 and names itself", () => {
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.title).toBe("Baton definition (baton.yaml)");
  });

  it("describes every field", () => {
    const undescribed = properties(schema)
      .filter(([, field]) => typeof field.description !== "string")
      .map(([path]) => path);
    expect(undescribed).toEqual([]);
  });

  it("shows the defaults", () => {
    const fields = Object.fromEntries(properties(schema));
    expect(fields["apps.*.replicas"]?.default).toBe(1);
    expect(fields["apps.*.stopGrace"]?.default).toBe("10s");
    expect(fields["apps.*.restart.backoff"]?.default).toBe("250ms");
    expect(fields["apps.*.health.liveness.interval"]?.default).toBe("5s");
  });

  it("refuses unknown keys but allows x- keys at the top level", () => {
    expect(schema.additionalProperties).toBe(false);
    expect(schema.patternProperties).toEqual({ "^x-": {} });
  });

  it("constrains app names and durations as the loader does", () => {
    const apps = (schema.properties as JsonObject).apps as JsonObject;
    expect(apps.propertyNames).toEqual({ pattern: "^[a-z][a-z0-9-]{0,62}$" });
    const fields = Object.fromEntries(properties(schema));
    expect(new RegExp(String(fields["apps.*.stopGrace"]?.pattern)).test("1m30s")).toBe(true);
  });

  it("is plain JSON", () => {
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });
});
