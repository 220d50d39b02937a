/**
 * What the contract says a delivery must become, computed from the request alone (README,
 * docs/config-reference.md, docs/platforms.md) — never by calling leadflow's own code, so the
 * fuzz test cannot inherit a bug from it. A lead is storable when it has a valid email (zod
 * `z.email()` after trim and lower-casing) or, failing that, a valid phone (libphonenumber-js,
 * E.164 or with the source's default country).
 */
import { parsePhoneNumberFromString } from "libphonenumber-js";
import { z } from "zod";

/** Every source in config/sources.yaml assumes US for phones written without +<country code>. */
export const defaultPhoneCountry = "US";
export const maxWebhookBytes = 256 * 1024;
export const formLimits = { fields: 500, nameLength: 256, valueLength: 10_000, depth: 8 } as const;
/** Platform ids (webhook-id, lead_id, leadgen_id) may be 512 bytes of UTF-8 (they go into keys). */
export const maxPlatformLeadIdBytes = 512;

/** Names compare ignoring case and anything but letters and digits (docs/config-reference.md). */
export function fieldKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/** The built-in names of the fields that decide identity, preferred first. */
const aliases = {
  email: ["email", "emailaddress", "workemail", "businessemail"],
  phone: [
    "phone",
    "phonenumber",
    "mobile",
    "mobilephone",
    "mobilenumber",
    "telephone",
    "tel",
    "workphone",
    "workphonenumber",
  ],
  country: ["country", "countrycode"],
} as const;
type IdentityField = keyof typeof aliases;

/** True when a field of this name would take part in identity: noise must never be named so. */
export function isIdentityName(name: string): boolean {
  const key = fieldKey(name);
  return Object.values(aliases).some((names) => (names as readonly string[]).includes(key));
}

const emailSchema = z.email();

export function validEmail(raw: string): string | undefined {
  const email = raw.trim().toLowerCase();
  return emailSchema.safeParse(email).success ? email : undefined;
}

export function validPhone(raw: string, country: string | undefined): string | undefined {
  try {
    // biome-ignore lint/suspicious/noExplicitAny: the country is checked by libphonenumber itself
    const parsed = parsePhoneNumberFromString(raw, country as any);
    return parsed?.isValid() ? parsed.number : undefined;
  } catch {
    return undefined;
  }
}

/** Under which identifiers a lead is stored: its email, its phone, or both. */
export interface Identity {
  email?: string;
  phone?: string;
}

/** The identity of a delivery's fields (flat name → value), or undefined when it has none. */
export function identityOf(fields: ReadonlyMap<string, string>): Identity | undefined {
  const chosen: Partial<Record<IdentityField, string>> = {};
  for (const field of Object.keys(aliases) as IdentityField[]) {
    let best: { rank: number; value: string } | undefined;
    for (const [name, raw] of fields) {
      const rank = (aliases[field] as readonly string[]).indexOf(fieldKey(name));
      const value = raw.trim();
      if (rank < 0 || value === "") continue;
      if (!best || rank < best.rank) best = { rank, value };
    }
    if (best) chosen[field] = best.value;
  }
  const country = chosen.country && /^[a-z]{2}$/i.test(chosen.country) ? chosen.country.toUpperCase() : undefined;
  const email = chosen.email === undefined ? undefined : validEmail(chosen.email);
  const phone = chosen.phone === undefined ? undefined : validPhone(chosen.phone, country ?? defaultPhoneCountry);
  if (!email && !phone) return undefined;
  return { ...(email ? { email } : {}), ...(phone ? { phone } : {}) };
}

export type FlatForm = { fields: Map<string, string> } | { overLimit: string };

/**
 * A form body as its flat fields: `{ "a": { "b": 1 } }` is `a.b`, a list of plain values is
 * joined with ", ", any other list kept as JSON text, a repeated name joins its values; or the
 * limit it breaks (500 fields, names of 256 and values of 10,000 characters, 8 levels).
 */
export function flattenForm(body: Record<string, unknown> | URLSearchParams): FlatForm {
  const fields = new Map<string, string>();
  const add = (name: string, value: string): string | undefined => {
    if (name.length > formLimits.nameLength) return `a field name of ${name.length} characters`;
    if (value.length > formLimits.valueLength) return `a value of ${value.length} characters`;
    const existing = fields.get(name);
    if (existing === undefined && fields.size >= formLimits.fields) return `more than ${formLimits.fields} fields`;
    fields.set(name, existing === undefined ? value : `${existing}, ${value}`);
    return undefined;
  };
  const walk = (object: Record<string, unknown>, prefix: string, depth: number): string | undefined => {
    if (depth > formLimits.depth) return `nesting deeper than ${formLimits.depth} levels`;
    for (const [name, value] of Object.entries(object)) {
      const key = prefix + name;
      if (value === null || value === undefined) continue;
      const problem = isRecord(value)
        ? walk(value, `${key}.`, depth + 1)
        : Array.isArray(value)
          ? value.every((item) => item === null || typeof item !== "object")
            ? add(key, value.join(", "))
            : // Lists count as levels, like objects.
              depth + levelsOf(value) > formLimits.depth
              ? `nesting deeper than ${formLimits.depth} levels`
              : add(key, deepJsonText(value))
          : add(key, String(value));
      if (problem) return problem;
    }
    return undefined;
  };
  if (body instanceof URLSearchParams) {
    for (const [name, value] of body) {
      const problem = add(name, value);
      if (problem) return { overLimit: problem };
    }
    return { fields };
  }
  const problem = walk(body, "", 1);
  return problem ? { overLimit: problem } : { fields };
}

/** Any JSON body nested deeper than this is refused with 422 before its shape is looked at (config-reference.md). */
export const jsonDepthLimit = 32;

/** Levels of objects and lists in a value (a scalar is 0), counted without recursion. */
export function levelsOf(root: unknown): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[root, 0]];
  while (pending.length > 0) {
    const [node, depth] = pending.pop() as [unknown, number];
    if (typeof node !== "object" || node === null) continue;
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * `JSON.stringify` of parsed JSON without recursion, so that lists nested thousands deep (which
 * overflow the native stack) still get their text and length.
 */
export function deepJsonText(root: unknown): string {
  const parts: string[] = [];
  const stack: unknown[] = [root];
  const close = Symbol("close");
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === "object" && item !== null && close in item) {
      parts.push((item as { [close]: string })[close]);
    } else if (Array.isArray(item)) {
      parts.push("[");
      stack.push({ [close]: "]" });
      for (let index = item.length - 1; index >= 0; index--) {
        stack.push(item[index] === undefined ? null : item[index]);
        if (index > 0) stack.push({ [close]: "," });
      }
    } else if (isRecord(item)) {
      parts.push("{");
      stack.push({ [close]: "}" });
      const entries = Object.entries(item).filter(([, value]) => value !== undefined);
      for (let index = entries.length - 1; index >= 0; index--) {
        const [name, value] = entries[index] as [string, unknown];
        stack.push(value);
        stack.push({ [close]: `${index > 0 ? "," : ""}${JSON.stringify(name)}:` });
      }
    } else parts.push(JSON.stringify(item));
  }
  return parts.join("");
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Text real SQS refuses (U+FFFE, U+FFFF, a lone surrogate). The contract does not say whether a
 * lead carrying it is refused (4xx) or stored with the text escaped, so either is accepted for it.
 */
export function hasTextSqsRefuses(text: string): boolean {
  return /[\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\\u[dD][89a-fA-F][0-9a-fA-F]{2}/.test(
    text,
  );
}
