import { describe, expect, it } from "vitest";
import { needsFacts, renderTemplate, TemplateError } from "../../../src/hosts/template.js";

describe("renderTemplate", () => {
  it("fills variables and facts, and leaves other braces alone", () => {
    const facts = { os: { id: "debian", version: "12" }, cpus: 2 };
    expect(
      renderTemplate(
        "listen {{ port }};\nos {{facts.os.id}}-{{ facts.os.version }} x{{ facts.cpus }} {x}",
        { port: "80" },
        facts,
      ),
    ).toBe("listen 80;\nos debian-12 x2 {x}");
    expect(needsFacts("{{ port }}")).toBe(false);
    expect(needsFacts("{{ facts.os.id }}")).toBe(true);
  });

  it("refuses a name without a value rather than leave a hole", () => {
    expect(() => renderTemplate("{{ prot }}", { port: "80" })).toThrow(TemplateError);
    expect(() => renderTemplate("{{ prot }}", { port: "80" })).toThrow(/variables here are port/);
    expect(() => renderTemplate("{{ facts.nope }}", {}, { os: {} })).toThrow(/not a fact/);
  });
});
