import {
  fieldRecord,
  InvalidBodyError,
  isPlainObject,
  nestingDepth,
  parseJsonText,
  UnsupportedMediaTypeError,
  ValidationError,
} from "@leadflow/core";

/** A webhook delivery as the platform sent it: raw bytes, so signatures can be checked. */
export interface WebhookRequest {
  /** Header names lower-cased. */
  headers: Readonly<Record<string, string | undefined>>;
  query: Readonly<Record<string, string | undefined>>;
  body: Buffer;
}

/**
 * A JSON body (415 unless the content type says JSON: a browser's no-cors `text/plain` POST
 * cannot send one). Platforms send int64 ids as JSON numbers (Meta's leadgen_id, Google's
 * form_id); past 2^53 a plain parse would round them, so such numbers are kept as their exact
 * source text.
 */
export function parseJsonBody(request: WebhookRequest): unknown {
  if (!isJsonContentType(contentTypeOf(request))) {
    throw new UnsupportedMediaTypeError("Send application/json", { contentType: contentTypeOf(request) || null });
  }
  const text = request.body.toString("utf8");
  return parseJsonText(text, /\d{16}/.test(text) ? { reviver: keepUnsafeIntegersExact } : {});
}

/** What a form may send: enough for any real form, bounded so no body can blow up a message. */
export const formLimits = { fields: 500, nameLength: 256, valueLength: 10_000, depth: 8 } as const;

/** A form's fields as flat strings, from JSON or `application/x-www-form-urlencoded`. */
export function parseFormFields(request: WebhookRequest): Record<string, string> {
  const contentType = contentTypeOf(request);
  if (contentType === "application/x-www-form-urlencoded") {
    const fields = new FlatFields();
    for (const [name, value] of new URLSearchParams(request.body.toString("utf8"))) fields.add(name, value);
    return fields.values;
  }
  if (isJsonContentType(contentType)) {
    const body = parseJsonBody(request);
    if (!isPlainObject(body)) throw new InvalidBodyError("The JSON body must be an object of fields");
    return flattenInto(new FlatFields(), body, "", 1).values;
  }
  throw new UnsupportedMediaTypeError("Send application/json or application/x-www-form-urlencoded", {
    contentType: contentType || null,
  });
}

/** Fields by name; a repeated name keeps every value, joined. Refuses what is over the limits. */
class FlatFields {
  readonly values = fieldRecord();
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
 * is joined, any other list kept as JSON text. Objects and lists alike count toward the depth.
 */
function flattenInto(fields: FlatFields, body: Record<string, unknown>, prefix: string, depth: number): FlatFields {
  const tooDeep = (path: string) =>
    new ValidationError(`Fields nest at most ${formLimits.depth} levels deep`, [{ path, message: "too deep" }]);
  if (depth > formLimits.depth) throw tooDeep(prefix);
  for (const [name, value] of Object.entries(body)) {
    const key = prefix + name;
    if (value === null || value === undefined) continue;
    if (isPlainObject(value)) flattenInto(fields, value, `${key}.`, depth + 1);
    else if (Array.isArray(value)) {
      if (value.every(isPlain)) fields.add(key, value.join(", "));
      else if (depth + nestingDepth(value, formLimits.depth) > formLimits.depth) throw tooDeep(key);
      else fields.add(key, JSON.stringify(value));
    } else fields.add(key, String(value));
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

/** The media type, lower-cased, without parameters. */
function contentTypeOf(request: WebhookRequest): string {
  return (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

function isJsonContentType(contentType: string): boolean {
  return contentType === "application/json" || contentType.endsWith("+json");
}
