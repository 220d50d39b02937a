import { createHmac, timingSafeEqual } from "node:crypto";

/** Compares a presented secret with the expected one in constant time, whatever their lengths. */
export function secretsMatch(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const digest = (value: string) => createHmac("sha256", "leadflow-compare").update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
