// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the text under test is literal `${NAME}` syntax
import { describe, expect, it } from "vitest";
import { expandVariables } from "../../../src/spec/index.js";
import { interpolationProblems } from "../../../src/spec/interpolate.js";

const env: Readonly<Record<string, string>> = { PORT: "8080", HOST: "127.0.0.1" };
const lookup = (name: string): string | undefined => env[name];

describe("expandVariables", () => {
  it("replaces ${NAME} with the variable", () => {
    expect(expandVariables("${HOST}:${PORT}", lookup)).toBe("127.0.0.1:8080");
  });

  it("turns $$ into a literal $", () => {
    expect(expandVariables("cost: $$5 on ${PORT}", lookup)).toBe("cost: $5 on 8080");
  });

  it("expands an unset variable to the empty string, as a shell does", () => {
    expect(expandVariables("[${MISSING}]", lookup)).toBe("[]");
  });

  it("throws on text that was not checked", () => {
    expect(() => expandVariables("$PORT", lookup)).toThrow("is not expanded");
  });
});

describe("interpolationProblems", () => {
  it("finds nothing wrong in well-formed text", () => {
    expect(interpolationProblems("-p ${PORT} $$HOME ${_x1}")).toEqual([]);
  });

  it("finds each malformed $ with its offset", () => {
    expect(interpolationProblems("${1X} $HOME ${PORT").map((p) => [p.index, p.message])).toEqual([
      [0, "`${1X}` is not a valid variable name"],
      [6, "`$HOME` is not expanded: an argv command is not run by a shell"],
      [12, "`${PORT` opens `${` without a closing `}`"],
    ]);
  });

  it("finds a lone $ at the end", () => {
    expect(interpolationProblems("price$").map((p) => p.index)).toEqual([5]);
  });
});
