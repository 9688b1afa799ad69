import { join } from "node:path";
import { findFiles } from "./find-files.js";
import { mergeSummaries, readJunitFile } from "./junit.js";
import type { TestSummary } from "./step-types.js";

export interface ReadReports {
  readonly tests?: TestSummary;
  /** The report files read, relative to the checkout. */
  readonly files: string[];
  readonly problems: string[];
}

/** Reads every JUnit file of the checkout matching `patterns` into one summary. */
export function readReports(checkout: string, patterns: readonly string[]): ReadReports {
  if (patterns.length === 0) return { files: [], problems: [] };
  const problems: string[] = [];
  let files: string[];
  try {
    const found = findFiles(checkout, patterns);
    files = found.files;
    for (const link of found.symlinks) problems.push(`JUnit report ${link} is a symlink: not read`);
  } catch (error) {
    return { files: [], problems: [`junit: ${error instanceof Error ? error.message : error}`] };
  }
  const summaries: TestSummary[] = [];
  for (const file of files) {
    try {
      summaries.push(readJunitFile(join(checkout, file)));
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (files.length === 0) problems.push(`junit: no file matches ${patterns.join(", ")}`);
  return summaries.length > 0
    ? { tests: mergeSummaries(summaries), files, problems }
    : { files, problems };
}
