/** The JSON forms scripts read: a log record as `baton logs --json` prints it, a release. */

export { releaseJson } from "../images/releases-query.js";
export { parseRecordJson, recordJson } from "../observe/logs/log-record.js";
