import { readFileSync, statSync } from "node:fs";
import type { TestFailure, TestSummary } from "./step-types.js";
import { descendants, parseXml, type XmlElement } from "./xml.js";

/** Long failure texts (stack traces) are cut: the summary names tests, the log has the rest. */
const MESSAGE_LIMIT = 500;

/**
 * Counts the test cases of a JUnit XML document. Counting `<testcase>` elements, rather than
 * trusting the `tests=` attributes, keeps nested `<testsuite>`s (surefire, pytest) from
 * being counted twice. A case is failed when it holds `<failure>` or `<error>`, skipped
 * when it holds `<skipped>` (jest-junit, vitest, pytest, surefire all write these).
 */
export function summarizeJunit(xml: string): TestSummary {
  const root = parseXml(xml);
  if (root.name !== "testsuites" && root.name !== "testsuite") {
    throw new Error(`the root element is <${root.name}>, not <testsuites> or <testsuite>`);
  }
  let total = 0;
  let skipped = 0;
  const failures: TestFailure[] = [];
  for (const testcase of descendants(root, "testcase")) {
    total++;
    const failure = testcase.children.find(
      (child) => child.name === "failure" || child.name === "error",
    );
    if (failure) failures.push(failureOf(testcase, failure));
    else if (testcase.children.some((child) => child.name === "skipped")) skipped++;
  }
  return { total, failed: failures.length, skipped, failures };
}

function failureOf(testcase: XmlElement, failure: XmlElement): TestFailure {
  const attrs = testcase.attributes;
  const message = (failure.attributes.message ?? failure.text).trim().split("\n")[0]?.trim();
  return {
    name: attrs.name ?? "(unnamed)",
    ...(attrs.classname ? { classname: attrs.classname } : {}),
    ...(message ? { message: message.slice(0, MESSAGE_LIMIT) } : {}),
    ...(attrs.file ? { file: attrs.file } : {}),
  };
}

/** The sum of several reports (one per file). */
export function mergeSummaries(summaries: readonly TestSummary[]): TestSummary {
  return {
    total: summaries.reduce((sum, s) => sum + s.total, 0),
    failed: summaries.reduce((sum, s) => sum + s.failed, 0),
    skipped: summaries.reduce((sum, s) => sum + s.skipped, 0),
    failures: summaries.flatMap((s) => s.failures),
  };
}

/** Larger reports are refused rather than read whole into the controller's memory. */
const MAX_REPORT_BYTES = 64 * 1024 * 1024;

/** Reads and summarises one report file; the error names the file. */
export function readJunitFile(path: string): TestSummary {
  try {
    const size = statSync(path).size;
    if (size > MAX_REPORT_BYTES) {
      throw new Error(
        `it has ${Math.round(size / 1024 / 1024)} MiB, more than the 64 MiB read: write one report per test file`,
      );
    }
    return summarizeJunit(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(
      `cannot read the JUnit report ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
