import { IANAZone } from "luxon";

/** Names only (`Europe/Paris`, `UTC`): offsets such as `+05:00`, which Intl also takes, are not zones. */
export const zoneNamePattern = /^[A-Za-z][A-Za-z0-9_+\-/]*$/;

/**
 * The IANA zone a lead's `timezone` field names, in its canonical spelling
 * (` america/new_york ` → `America/New_York`), or undefined when it names none.
 */
export function canonicalTimeZone(raw: string): string | undefined {
  const name = raw.trim();
  if (name.length > 64 || !zoneNamePattern.test(name) || !IANAZone.isValidZone(name)) return undefined;
  return new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
}
