import type { z } from "zod";

/** Every error a client can cause carries one of these codes; `packages/lambda` maps them to HTTP. */
export type ErrorCode =
  | "invalid_signature"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "unknown_source"
  | "invalid_body"
  | "validation_failed"
  | "payload_too_large"
  | "unsupported_media_type"
  | "invalid_transition"
  | "gone";

export abstract class LeadflowError extends Error {
  abstract readonly code: ErrorCode;
  readonly details: unknown;

  constructor(message: string, details?: unknown) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

export class SignatureError extends LeadflowError {
  readonly code = "invalid_signature";
}

export class UnauthorizedError extends LeadflowError {
  readonly code = "unauthorized";
}

export class ForbiddenError extends LeadflowError {
  readonly code = "forbidden";
}

export class NotFoundError extends LeadflowError {
  readonly code = "not_found";
}

export class UnknownSourceError extends LeadflowError {
  readonly code = "unknown_source";

  constructor(source: string) {
    super(`No source named "${source}" is declared in config/sources.yaml`);
  }
}

/** The body could not be read at all (not JSON, not a form). */
export class InvalidBodyError extends LeadflowError {
  readonly code = "invalid_body";
}

/** The body was read but its content breaks the contract. */
export class ValidationError extends LeadflowError {
  readonly code = "validation_failed";

  static fromZod(error: z.ZodError, message = "The request does not match the expected shape"): ValidationError {
    const issues = error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
    return new ValidationError(message, issues);
  }
}

export class PayloadTooLargeError extends LeadflowError {
  readonly code = "payload_too_large";
}

export class UnsupportedMediaTypeError extends LeadflowError {
  readonly code = "unsupported_media_type";
}
