import {
  InvalidBodyError,
  NotFoundError,
  PayloadTooLargeError,
  SignatureError,
  UnknownSourceError,
  ValidationError,
} from "@leadflow/core";
import { errorResponse, redactPersonalData } from "@leadflow/lambda";
import { describe, expect, it } from "vitest";

describe("errors as HTTP responses", () => {
  it.each([
    [new InvalidBodyError("x"), 400, "invalid_body"],
    [new SignatureError("x"), 401, "invalid_signature"],
    [new NotFoundError("x"), 404, "not_found"],
    [new UnknownSourceError("fax"), 404, "unknown_source"],
    [new PayloadTooLargeError("x"), 413, "payload_too_large"],
    [new ValidationError("x", [{ path: "email", message: "missing" }]), 422, "validation_failed"],
  ])("%s -> %i", (error, status, code) => {
    const response = errorResponse(error, "request-1");
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body as string)).toEqual({
      error: { code, message: error.message, details: error.details ?? null },
    });
  });

  it("hides the internals of our own failures behind a 500 with the request id", () => {
    const response = errorResponse(new Error("DynamoDB said no to arn:aws:..."), "request-2");
    expect(response.statusCode).toBe(500);
    const body = JSON.parse(response.body as string);
    expect(body.error).toMatchObject({ code: "internal_error", details: { requestId: "request-2" } });
    expect(response.body).not.toContain("DynamoDB");
  });
});

describe("log redaction", () => {
  it("replaces personal data anywhere in a log entry, and keeps lead ids", () => {
    const entry = { leadId: "lead-1", lead: { email: "a@example.com", phone: "+14155550132", firstName: "Ada" } };
    const logged = JSON.stringify(entry, redactPersonalData);
    expect(logged).toContain("lead-1");
    expect(logged).not.toMatch(/a@example\.com|4155550132|Ada/);
  });
});
