import { expect } from "vitest";

/** The one error shape: `{ "error": { "code", "message", "details" } }`. */
export function expectErrorBody(body: Record<string, unknown>, code: string): void {
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error).toEqual({
    code,
    message: expect.any(String),
    details: expect.toBeOneOf([null, expect.anything()]),
  });
}
