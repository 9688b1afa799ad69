import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { PushNotice } from "../../api/runs.js";
import type { PipelineSource } from "../../definition/pipeline-model.js";

/** What the post-receive hook reports: one ref of one push. */
export type { PushNotice };

const ZERO_ID = /^0+$/;

function canonicalPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** The folder of a source that lives on this machine (a path or a file:// URL); else undefined. */
function localFolder(repo: string): string | undefined {
  if (repo.startsWith("/")) return canonicalPath(repo);
  if (repo.startsWith("file://")) {
    try {
      return canonicalPath(fileURLToPath(repo));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Whether a pushed ref is the source's branch in the source's repository — a push that should
 * start a run. A deleted branch starts none. A source read from an ssh/https URL cannot be
 * matched by path: its hook names the pipeline (`hookScript({ pipeline })`) instead.
 */
export function pushMatches(source: PipelineSource, notice: PushNotice): boolean {
  if (ZERO_ID.test(notice.new)) return false;
  if (notice.ref !== `refs/heads/${source.branch}`) return false;
  const folder = localFolder(source.repo);
  return folder !== undefined && folder === canonicalPath(notice.repo);
}
