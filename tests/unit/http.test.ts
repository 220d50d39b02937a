import {
  InvalidBodyError,
  NotFoundError,
  PayloadTooLargeError,
  SignatureError,
  UnknownSourceError,
  ValidationError,
} from "@leadflow/core";
import { errorResponse, logger } from "@leadflow/lambda";
import { describe, expect, it, vi } from "vitest";

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
  it("keeps personal data out of what the logger writes, whatever the key's spelling, and keeps lead ids", () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    logger.setLogLevel("INFO");
    try {
      logger.info("Lead captured", {
        leadId: "lead-1",
        lead: { Email: "a@example.com", phone_number: "+14155550132", "First Name": "Ada" },
        fields: { custom: { "Work Email": "ada@work.example" } },
      });
    } finally {
      logger.setLogLevel("SILENT");
      spy.mockRestore();
    }
    const output = written.join("");
    expect(output).toContain("lead-1");
    expect(output).not.toMatch(/example|4155550132|Ada/);
  });
});
