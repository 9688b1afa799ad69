// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the text under test is literal `${NAME}` syntax
import { describe, expect, it } from "vitest";
import { expandVariables } from "../../../src/definition/index.js";
import { interpolationProblems } from "../../../src/definition/interpolate.js";

const env: Readonly<Record<string, string>> = { PORT: "8080", HOST: "127.0.0.1", EMPTY: "" };
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

  it("gives defaults as Compose and the shell do", () => {
    expect(expandVariables("${MISSING:-80} ${EMPTY:-80} ${PORT:-80}", lookup)).toBe("80 80 8080");
    expect(expandVariables("${MISSING-80} [${EMPTY-80}] ${PORT-80}", lookup)).toBe("80 [] 8080");
    expect(expandVariables("${MISSING:-a b:c}", lookup)).toBe("a b:c");
  });

  it("passes a bare $VAR through untouched: it is the shell's or the program's", () => {
    expect(expandVariables("exec httpd -f -p $PORT", lookup)).toBe("exec httpd -f -p $PORT");
    expect(expandVariables("$1 $? $(id -u) price$", lookup)).toBe("$1 $? $(id -u) price$");
  });

  it("hands ${…} written as $${…} to the shell", () => {
    expect(expandVariables("$${PORT%%0} $${PORT}", lookup)).toBe("${PORT%%0} ${PORT}");
  });

  it("throws on text that was not checked", () => {
    expect(() => expandVariables("${PORT", lookup)).toThrow("without a closing");
  });
});

describe("interpolationProblems", () => {
  it("finds nothing wrong in well-formed text", () => {
    expect(interpolationProblems("-p ${PORT} $$HOME ${_x1} $HOME $1 ${A:-b}")).toEqual([]);
  });

  it("finds each malformed ${ with its offset", () => {
    expect(
      interpolationProblems("${1X} $HOME ${PORT%%0} ${PORT").map((p) => [p.index, p.message]),
    ).toEqual([
      [0, "`${1X}` is not a valid variable name"],
      [12, "`${PORT%%0}` is shell syntax that Baton does not expand"],
      [23, "`${PORT` opens `${` without a closing `}`"],
    ]);
  });

  it("says how to leave shell syntax to the shell", () => {
    expect(interpolationProblems("${#PATH}")[0]?.hint).toContain("`$${#PATH}`");
  });
});
