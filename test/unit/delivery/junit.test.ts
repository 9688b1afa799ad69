import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mergeSummaries, summarizeJunit } from "../../../src/delivery/steps/junit.js";
import { parseXml, XmlError } from "../../../src/delivery/steps/xml.js";

const fixture = (name: string): string =>
  readFileSync(join(import.meta.dirname, "../../fixtures/junit", name), "utf8");

describe("JUnit reports as reporters write them", () => {
  it("vitest --reporter=junit: entities in names, <skipped/>, the failure's message", () => {
    const summary = summarizeJunit(fixture("vitest.xml"));
    expect(summary).toMatchObject({ total: 4, failed: 1, skipped: 1 });
    expect(summary.failures).toEqual([
      {
        name: "math > divides by zero",
        classname: "test/math.test.ts",
        message: "expected Infinity to be +0 // Object.is equality",
      },
    ]);
  });

  it("jest-junit: the message is the first line of the CDATA text, file kept", () => {
    const summary = summarizeJunit(fixture("jest-junit.xml"));
    expect(summary).toMatchObject({ total: 3, failed: 1, skipped: 0 });
    expect(summary.failures[0]).toEqual({
      name: "cart applies a discount",
      classname: "cart applies a discount",
      message: "Error: expect(received).toBe(expected) // Object.is equality",
      file: "/app/cart.test.js",
    });
  });

  it("pytest --junitxml: one line, self-closing cases, <error> counts as failed", () => {
    const summary = summarizeJunit(fixture("pytest.xml"));
    expect(summary).toMatchObject({ total: 5, failed: 2, skipped: 1 });
    expect(summary.failures.map((f) => [f.name, f.message])).toEqual([
      ["test_status", "assert 500 == 200"],
      ["test_fixture", 'failed on setup with "ValueError: no db"'],
    ]);
  });

  it("surefire: a <testsuite> root, properties, system-out holding '<'", () => {
    const summary = summarizeJunit(fixture("surefire.xml"));
    expect(summary).toMatchObject({ total: 3, failed: 1, skipped: 1 });
    expect(summary.failures[0]).toMatchObject({
      name: "testSubtract",
      classname: "com.example.AppTest",
      message: "expected:<1> but was:<2>",
    });
  });

  it("nested testsuites count each case once, whatever tests= says", () => {
    const xml = `<testsuites tests="99"><testsuite name="outer" tests="99">
      <testsuite name="inner"><testcase name='a &apos;quoted&apos; one'/><testcase name="b"><failure/></testcase></testsuite>
      <testcase name="c"/></testsuite></testsuites>`;
    expect(summarizeJunit(xml)).toEqual({
      total: 3,
      failed: 1,
      skipped: 0,
      failures: [{ name: "b" }],
    });
  });

  it("merges the reports of several files", () => {
    const merged = mergeSummaries([
      summarizeJunit(fixture("vitest.xml")),
      summarizeJunit(fixture("pytest.xml")),
    ]);
    expect(merged).toMatchObject({ total: 9, failed: 3, skipped: 2 });
    expect(merged.failures).toHaveLength(3);
  });

  it("refuses a document that is not a JUnit report, saying what it found", () => {
    expect(() => summarizeJunit("<html><body/></html>")).toThrow(/<html>, not <testsuites>/);
  });
});

describe("the XML reader", () => {
  it("decodes numeric entities, normalises attribute whitespace, skips comments and DOCTYPE", () => {
    const root = parseXml(`\uFEFF<?xml version="1.0"?>
<!DOCTYPE r [ <!ELEMENT r ANY> ]>
<!-- a comment with <tags> -->
<r a="x&#10;y" b='one
two' c="&#x263A;&#65;">t&lt;1<![CDATA[ & <raw> ]]><e/></r>`);
    expect(root.attributes).toEqual({ a: "x\ny", b: "one two", c: "☺A" });
    expect(root.text).toBe("t<1 & <raw> ");
    expect(root.children.map((c) => c.name)).toEqual(["e"]);
  });

  it.each([
    ["<a><b></a>", /<\/a> does not close <b> at line 1, column 7/],
    ["<a>\n<b>", /<b> is never closed/],
    ["<a x=1/>", /malformed attribute in <a>/],
    ["<a>&nbsp;</a>", /unknown entity/],
    ["<a>fish & chips</a>", /unknown entity/],
    ["<a/><b/>", /a second root element/],
    ["", /no root element/],
    ['<a x="1"y="2"/>', /expected a space before an attribute/],
    ["<a><!-- never ends</a>", /unterminated comment/],
  ])("rejects %j with where and what", (text, message) => {
    expect(() => parseXml(text)).toThrow(XmlError);
    expect(() => parseXml(text)).toThrow(message);
  });
});
