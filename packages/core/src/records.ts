import { z } from "zod";

/**
 * Objects keyed by names a client chose (form fields, event properties). They have no prototype,
 * so a field named `constructor`, `toString` or `__proto__` is a field like any other: nothing
 * is inherited, and assigning `__proto__` stores a value instead of changing the prototype.
 */
export function fieldRecord<Value = string>(entries: Iterable<readonly [string, Value]> = []): Record<string, Value> {
  const record = Object.create(null) as Record<string, Value>;
  for (const [name, value] of entries) record[name] = value;
  return record;
}

/** A copy of `source` (own keys only) as a field record. */
export function toFieldRecord<Value>(source: Readonly<Record<string, Value>>): Record<string, Value> {
  return fieldRecord(Object.entries(source));
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * `z.record` for names a client chose: every own key is kept, `__proto__` included (`z.record`
 * drops it), and the result is a field record.
 */
export function fieldRecordSchema<Value extends z.ZodType, Key extends z.ZodType<string> = z.ZodString>(
  value: Value,
  key?: Key,
) {
  return z.unknown().transform((input, context): Record<string, z.output<Value>> => {
    if (!isPlainObject(input)) {
      context.addIssue({ code: "custom", message: "expected an object" });
      return z.NEVER;
    }
    const record = fieldRecord<z.output<Value>>();
    for (const [name, item] of Object.entries(input)) {
      const checkedKey = key?.safeParse(name);
      if (checkedKey && !checkedKey.success) {
        for (const { message } of checkedKey.error.issues) context.addIssue({ code: "custom", message, path: [name] });
        continue;
      }
      const checked = value.safeParse(item);
      if (checked.success) record[name] = checked.data;
      else
        for (const { message, path } of checked.error.issues)
          context.addIssue({ code: "custom", message, path: [name, ...path] });
    }
    return record;
  });
}
