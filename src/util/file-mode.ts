/**
 * setuid, setgid and sticky: a copy made by a root controller must never carry them, or a file
 * a committer marked setuid in an app folder becomes a root-owned setuid binary in the state
 * directory (issue 19). Only the permission bits (`0o777`) travel with a copy.
 */
export const SPECIAL_BITS = 0o7000;

/** The mode a copy gets of a source with `mode`: its permission bits, no special bits. */
export function copyMode(mode: number): number {
  return mode & 0o777;
}
