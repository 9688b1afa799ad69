import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { compareDebianVersions, satisfies } from "../../../src/hosts/debian-version.js";

const PAIRS: [string, string][] = [
  ["1.22.1-9", "1.22"],
  ["1.0~rc1", "1.0"],
  ["1.0", "1.0~rc1"],
  ["2:0.1", "1:9"],
  ["1.2.3", "1.2.10"],
  ["1.0a", "1.0"],
  ["1.0+b1", "1.0"],
  ["1.0-1", "1.0-1~bpo12+1"],
  ["3.0.11-1~deb12u2", "3.0.11-1"],
  ["7.88.1-10+deb12u8", "7.88.1-10+deb12u12"],
  ["1.0", "1.0"],
  ["0.9.8", "0.9.8z"],
];

describe("compareDebianVersions", () => {
  it("orders versions exactly as dpkg does", () => {
    for (const [a, b] of PAIRS) {
      const ours = Math.sign(compareDebianVersions(a, b));
      const dpkg = (op: string) => {
        try {
          execFileSync("dpkg", ["--compare-versions", a, op, b]);
          return true;
        } catch {
          return false;
        }
      };
      const theirs = dpkg("lt") ? -1 : dpkg("eq") ? 0 : 1;
      expect({ a, b, order: ours }).toEqual({ a, b, order: theirs });
    }
  });

  it("checks constraints such as >=1.22", () => {
    expect(satisfies("1.22.1-9", ">=1.22")).toBe(true);
    expect(satisfies("1.18.0-6.1", ">=1.22")).toBe(false);
    expect(satisfies("1.22.1-9", "1.22.1-9")).toBe(true);
    expect(satisfies("1.22.1-9", "<1.22")).toBe(false);
    expect(satisfies("2.0", "<<3")).toBe(true);
  });
});
