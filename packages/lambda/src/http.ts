import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import {
  type ErrorCode,
  LeadflowError,
  parseJsonText,
  secretsMatch,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from "@leadflow/core";
import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { z } from "zod";
import { logger } from "./logger.ts";

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

/** The one mapping from error codes to HTTP statuses. Anything else is our fault: a 500. */
const statusByCode: Readonly<Record<ErrorCode, number>> = {
  invalid_body: 400,
  invalid_signature: 401,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  unknown_source: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  invalid_transition: 409,
  gone: 410,
};

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}

export function html(statusCode: number, body: string): HttpResult {
  return {
    statusCode,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
      "referrer-policy": "no-referrer",
    },
    body,
  };
}

/** Whether the caller asked for JSON rather than a page (`Accept: application/json`). */
export function wantsJson(event: HttpEvent): boolean {
  return /application\/json/i.test(event.headers.accept ?? "");
}

export function text(statusCode: number, body: string): HttpResult {
  return { statusCode, headers: { "content-type": "text/plain; charset=utf-8" }, body };
}

/** `{ "error": { "code", "message", "details" } }`; internals of a 500 stay in the logs. */
export function errorResponse(error: unknown, requestId: string | undefined): HttpResult {
  if (error instanceof LeadflowError) {
    const { code, message, details } = error;
    return json(statusByCode[code], { error: { code, message, details: details ?? null } });
  }
  logger.error("Request failed", { requestId, error: error as Error });
  const message = "Something went wrong on our side; the request can be retried";
  return json(500, { error: { code: "internal_error", message, details: { requestId: requestId ?? null } } });
}

/** Wraps an API Gateway (HTTP API, payload 2.0) handler with the shared error mapping. */
export function httpHandler(handler: (event: HttpEvent) => Promise<HttpResult>) {
  return middy<HttpEvent, HttpResult>()
    .use(injectLambdaContext(logger))
    .use({
      onError: async (request) => {
        request.response = errorResponse(request.error, request.context.awsRequestId);
      },
    })
    .handler(handler);
}

/** The raw body bytes, as the client signed them. */
export function rawBody(event: HttpEvent): Buffer {
  if (!event.body) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8");
}

/** The `x-api-key` header must match one of `apiKeys` (compared in constant time). */
export function requireApiKey(event: HttpEvent, ...apiKeys: string[]): void {
  const given = event.headers["x-api-key"];
  if (!apiKeys.some((apiKey) => secretsMatch(given, apiKey))) {
    throw new UnauthorizedError("x-api-key is missing or wrong");
  }
}

/** Validates path or query parameters; a mismatch is the client's mistake (422). */
export function parseInput<Schema extends z.ZodType>(schema: Schema, input: unknown, what: string): z.output<Schema> {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, `Invalid ${what}`);
  return parsed.data;
}

/** A JSON request body: 415 unless JSON, 400 unless it parses, 422 unless it fits the schema. */
export function parseBody<Schema extends z.ZodType>(schema: Schema, event: HttpEvent): z.output<Schema> {
  const contentType = (event.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (contentType !== "application/json" && !contentType?.endsWith("+json")) {
    throw new UnsupportedMediaTypeError("Send application/json", { contentType: contentType || null });
  }
  const parsed = schema.safeParse(parseJsonText(rawBody(event).toString("utf8")));
  if (!parsed.success) throw ValidationError.fromZod(parsed.error);
  return parsed.data;
}

/** Wraps a scheduled (EventBridge) handler: the logger carries the invocation's context. */
export function scheduledHandler<Result>(handler: () => Promise<Result>) {
  return middy<unknown, Result>()
    .use(injectLambdaContext(logger))
    .handler(() => handler());
}
