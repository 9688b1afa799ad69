import { describe, expect, it } from "vitest";
import { SecretMasker } from "../../../src/delivery/steps/secret-mask.js";

/** Everything the masker lets out for these chunks, then its end. */
function through(masker: SecretMasker, chunks: readonly string[]): string {
  const out = chunks.map((c) => masker.write(Buffer.from(c)).toString());
  return out.join("") + masker.end().toString();
}

describe("SecretMasker", () => {
  it("masks whole occurrences, the longest secret first", () => {
    const m = new SecretMasker(["hunter2!", "hunter2!-extended"]);
    expect(through(m, ["a hunter2! b hunter2!-extended c"])).toBe("a *** b *** c");
  });

  it("finds a secret split across chunks, however it is cut", () => {
    const secret = "p4ssw0rd";
    const text = `x ${secret} y ${secret}`;
    for (let cut = 0; cut <= text.length; cut++) {
      for (let cut2 = cut; cut2 <= text.length; cut2 += 3) {
        const m = new SecretMasker([secret]);
        expect(through(m, [text.slice(0, cut), text.slice(cut, cut2), text.slice(cut2)])).toBe(
          "x *** y ***",
        );
      }
    }
  });

  it("holds back only what could begin a secret, and lets it out at the end", () => {
    const m = new SecretMasker(["secret-value"]);
    expect(m.write(Buffer.from("line one\nsecr")).toString()).toBe("line one\n");
    expect(m.write(Buffer.from("et-val")).toString()).toBe("");
    expect(m.write(Buffer.from("id\n")).toString()).toBe("secret-valid\n");
    expect(m.write(Buffer.from("ends with secret-v")).toString()).toBe("ends with ");
    expect(m.end().toString()).toBe("secret-v");
  });

  it("leaves values too short to be told from ordinary words", () => {
    const m = new SecretMasker(["yes", ""]);
    expect(m.active).toBe(false);
    expect(through(m, ["yes yes"])).toBe("yes yes");
  });
});
