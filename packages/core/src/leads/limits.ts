/**
 * What one lead item may hold. DynamoDB refuses items over 400 KB, and anyone can post a public
 * form with someone else's email: without bounds, enough submissions for one person would lock
 * that person out. Each growing part of a lead is bounded here; docs/access-patterns.md adds
 * them up to the largest possible item, which the store tests write to DynamoDB Local.
 */
export const leadLimits = {
  /** A profile field (firstName, company…) longer than this is kept as a custom field instead. */
  profileValueLength: 1_000,
  /** Likewise for attribution fields (utm_*, gclid) and the platforms' ids. */
  attributionValueLength: 256,
  /** Emails, and phones, listed on the lead; further ones still find the lead through their claims. */
  identifiersPerKind: 10,
  /** Custom fields, in UTF-8 bytes of names and values; the newest values are kept. */
  customBytes: 64 * 1024,
  /** Deliveries listed on the lead: the first one and the newest; `sourceCount` counts them all. */
  sourcesKept: 10,
  /** Field names a capture's history entry lists; `changedFieldCount` has the total. */
  changedFieldsListed: 20,
  /** A BANT answer as stored (the whole value is what qualifies it). */
  bantAnswerLength: 256,
  /** Events folded into the lead per write: bounds the history left pending on the lead. */
  eventsPerWrite: 10,
} as const;

/** An email address is at most 254 characters (RFC 5321). */
export const maxEmailLength = 254;

/**
 * Platform lead ids go into keys (DynamoDB: partition key ≤ 2,048 bytes, sort key ≤ 1,024), so
 * they are limited in bytes, not characters.
 */
export const maxPlatformLeadIdBytes = 512;

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** At most `max` UTF-16 units, never leaving half of a surrogate pair (an emoji, say) at the end. */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max - 1).replace(/[\uD800-\uDBFF]$/u, "")}…`;
}
