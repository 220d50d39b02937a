import { InvalidBodyError, UnsupportedMediaTypeError, ValidationError } from "@leadflow/core";

/** A webhook delivery as the platform sent it: raw bytes, so signatures can be checked. */
export interface WebhookRequest {
  /** Header names lower-cased. */
  headers: Readonly<Record<string, string | undefined>>;
  query: Readonly<Record<string, string | undefined>>;
  body: Buffer;
}

/**
 * Platforms send int64 ids as JSON numbers (Meta's leadgen_id, Google's form_id); past 2^53 a
 * plain parse would round them, so such numbers are kept as their exact source text.
 */
export function parseJsonBody(request: WebhookRequest): unknown {
  const text = request.body.toString("utf8");
  try {
    return /\d{16}/.test(text) ? JSON.parse(text, keepUnsafeIntegersExact) : JSON.parse(text);
  } catch {
    throw new InvalidBodyError("The body is not valid JSON");
  }
}

/** What a form may send: enough for any real form, bounded so no body can blow up a message. */
export const formLimits = { fields: 500, nameLength: 256, valueLength: 10_000, depth: 8 } as const;

/** A form's fields as flat strings, from JSON or `application/x-www-form-urlencoded`. */
export function parseFormFields(request: WebhookRequest): Record<string, string> {
  const contentType = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (contentType === "application/x-www-form-urlencoded") {
    const fields = new FlatFields();
    for (const [name, value] of new URLSearchParams(request.body.toString("utf8"))) fields.add(name, value);
    return fields.values;
  }
  if (contentType === "application/json" || contentType.endsWith("+json")) {
    const body = parseJsonBody(request);
    if (!isRecord(body)) throw new InvalidBodyError("The JSON body must be an object of fields");
    return flattenInto(new FlatFields(), body, "", 1).values;
  }
  throw new UnsupportedMediaTypeError("Send application/json or application/x-www-form-urlencoded", {
    contentType: contentType || null,
  });
}

/** Fields by name; a repeated name keeps every value, joined. Refuses what is over the limits. */
class FlatFields {
  readonly values: Record<string, string> = {};
  #count = 0;

  add(name: string, value: string): void {
    if (name.length > formLimits.nameLength) {
      throw new ValidationError(`Field names are limited to ${formLimits.nameLength} characters`, [
        { path: `${name.slice(0, 40)}…`, message: "name too long" },
      ]);
    }
    if (value.length > formLimits.valueLength) {
      throw new ValidationError(`Field values are limited to ${formLimits.valueLength} characters`, [
        { path: name, message: "value too long" },
      ]);
    }
    const existing = this.values[name];
    if (existing === undefined && ++this.#count > formLimits.fields) {
      throw new ValidationError(`A form is limited to ${formLimits.fields} fields`, [
        { path: "", message: "too many fields" },
      ]);
    }
    this.values[name] = existing === undefined ? value : `${existing}, ${value}`;
  }
}

/**
 * `{ "address": { "city": "Lyon" } }` becomes `{ "address.city": "Lyon" }`; a list of plain values
 * is joined, any other list kept as JSON text.
 */
function flattenInto(fields: FlatFields, body: Record<string, unknown>, prefix: string, depth: number): FlatFields {
  if (depth > formLimits.depth) {
    throw new ValidationError(`Fields nest at most ${formLimits.depth} levels deep`, [
      { path: prefix, message: "too deep" },
    ]);
  }
  for (const [name, value] of Object.entries(body)) {
    const key = prefix + name;
    if (value === null || value === undefined) continue;
    if (isRecord(value)) flattenInto(fields, value, `${key}.`, depth + 1);
    else if (Array.isArray(value)) fields.add(key, value.every(isPlain) ? value.join(", ") : JSON.stringify(value));
    else fields.add(key, String(value));
  }
  return fields;
}

function isPlain(value: unknown): boolean {
  return value === null || typeof value !== "object";
}

function keepUnsafeIntegersExact(_key: string, value: unknown, context?: { source?: string }): unknown {
  return typeof value === "number" && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)
    ? context.source
    : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
