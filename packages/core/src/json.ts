import { InvalidBodyError, ValidationError } from "./errors.ts";
import { fieldRecord, isPlainObject } from "./records.ts";

/** `JSON.parse`'s reviver, with the source text access Node gives it. */
export type JsonReviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;

/** How deep a request body may nest objects and arrays: far beyond any real payload. */
export const maxJsonDepth = 32;

/**
 * Parses a request body. Refuses text that is not JSON (400) and structures nested deeper than
 * `maxDepth` (422) before anything walks them recursively: `JSON.stringify`, schema validation
 * and the marshallers all recurse, and 5,000 nested arrays fit in 10 KB.
 */
export function parseJsonText(
  text: string,
  { maxDepth = maxJsonDepth, reviver }: { maxDepth?: number; reviver?: JsonReviver } = {},
): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidBodyError("The body is not valid JSON");
  }
  if (nestingDepth(value, maxDepth) > maxDepth) {
    throw new ValidationError(`The body nests objects and arrays more than ${maxDepth} levels deep`, [
      { path: "", message: "too deep" },
    ]);
  }
  // A reviver walks the value recursively: it runs only once the depth is known to be small.
  const revive = escapesSurrogates.test(text) ? wellFormed(reviver) : reviver;
  return revive ? JSON.parse(text, revive as Parameters<typeof JSON.parse>[1]) : value;
}

/** A `\uD800`-`\uDFFF` escape: the only way a lone surrogate gets into parsed text. */
const escapesSurrogates = /\\u[dD][89a-fA-F]/;

/**
 * Turns lone surrogates (not Unicode text: no UTF-8 can carry them, and SQS and DynamoDB refuse
 * them) into U+FFFD, in names and values, as any UTF-8 decoder would. Pairs are left alone.
 */
function wellFormed(reviver?: JsonReviver): JsonReviver {
  return function (this: unknown, key, value, context) {
    const revived = reviver ? reviver.call(this, key, value, context) : value;
    if (typeof revived === "string") return revived.toWellFormed();
    if (isPlainObject(revived) && Object.keys(revived).some((name) => !name.isWellFormed())) {
      return fieldRecord(Object.entries(revived).map(([name, item]) => [name.toWellFormed(), item] as const));
    }
    return revived;
  };
}

/**
 * Levels of objects and arrays in `value` (a scalar is 0), counted without recursion; stops
 * counting once past `limit`.
 */
export function nestingDepth(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [node, depth] = pending.pop() as [unknown, number];
    if (typeof node !== "object" || node === null) continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > limit) return deepest;
    for (const child of Object.values(node)) pending.push([child, level]);
  }
  return deepest;
}
