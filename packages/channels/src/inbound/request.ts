import { InvalidBodyError, UnsupportedMediaTypeError } from "@leadflow/core";

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

/** A form's fields as flat strings, from JSON or `application/x-www-form-urlencoded`. */
export function parseFormFields(request: WebhookRequest): Record<string, string> {
  const contentType = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (contentType === "application/x-www-form-urlencoded") {
    const fields: Record<string, string> = {};
    for (const [name, value] of new URLSearchParams(request.body.toString("utf8"))) {
      fields[name] = fields[name] === undefined ? value : `${fields[name]}, ${value}`;
    }
    return fields;
  }
  if (contentType === "application/json" || contentType.endsWith("+json")) {
    const body = parseJsonBody(request);
    if (!isRecord(body)) throw new InvalidBodyError("The JSON body must be an object of fields");
    return flattenFields(body);
  }
  throw new UnsupportedMediaTypeError("Send application/json or application/x-www-form-urlencoded", {
    contentType: contentType || null,
  });
}

/** `{ "address": { "city": "Lyon" } }` becomes `{ "address.city": "Lyon" }`; lists are joined. */
function flattenFields(body: Record<string, unknown>, prefix = "", into: Record<string, string> = {}) {
  for (const [name, value] of Object.entries(body)) {
    const key = prefix + name;
    if (value === null || value === undefined) continue;
    if (isRecord(value)) flattenFields(value, `${key}.`, into);
    else if (Array.isArray(value)) into[key] = value.map(String).join(", ");
    else into[key] = String(value);
  }
  return into;
}

function keepUnsafeIntegersExact(_key: string, value: unknown, context?: { source?: string }): unknown {
  return typeof value === "number" && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)
    ? context.source
    : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
