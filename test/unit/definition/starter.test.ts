import { describe, expect, it } from "vitest";
import { parseDefinition, starterDefinition } from "../../../src/definition/index.js";

function parsedStarter(folder: string, detected: Parameters<typeof starterDefinition>[1]) {
  return parseDefinition(starterDefinition(folder, detected), `/srv/${folder}/baton.yaml`);
}

describe("the starter definition", () => {
  it("is valid, with one app named after the folder, 2 replicas on port 8080 and a readiness probe", () => {
    const definition = parsedStarter("shop", {});
    expect(Object.keys(definition.apps)).toEqual(["shop"]);
    expect(definition.apps.shop).toMatchObject({
      replicas: 2,
      port: 8080,
      health: { readiness: { kind: "http", path: "/" } },
    });
  });

  it("runs npm start when package.json has a start script", () => {
    const definition = parsedStarter("shop", {
      packageJson: { scripts: { start: "node ." }, main: "index.js" },
    });
    expect(definition.apps.shop?.command).toEqual({ argv: ["npm", "start"] });
  });

  it("runs node on the main file when there is no start script", () => {
    const definition = parsedStarter("shop", { packageJson: { main: "lib/main server.js" } });
    expect(definition.apps.shop?.command).toEqual({ argv: ["node", "lib/main server.js"] });
  });

  it("has a placeholder command, marked as such, when nothing is detected", () => {
    const text = starterDefinition("shop", { packageJson: { scripts: { test: "vitest" } } });
    expect(text).toContain('command: ["node", "server.js"]   # placeholder');
  });

  it("turns the folder name into a valid app name", () => {
    expect(Object.keys(parsedStarter("My Shop_2", {}).apps)).toEqual(["my-shop-2"]);
    expect(Object.keys(parsedStarter("2048", {}).apps)).toEqual(["app"]);
  });

  it("explains itself in comments", () => {
    const text = starterDefinition("shop", {});
    expect(text.split("\n").filter((line) => line.includes("#")).length).toBeGreaterThan(5);
  });
});
