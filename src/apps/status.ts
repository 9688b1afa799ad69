/** The shape of `status --json` and `GET /api/v1/status` for apps: the API's (scripts rely on it). */
export type { AppStatus, ReplicaStateName, ReplicaStatus } from "../api/status.js";
