import { assertIdentifiable, maxPlatformLeadIdLength, ValidationError } from "@leadflow/core";
import type { Acceptance, AdapterContext } from "./adapter.ts";
import { parseFormFields } from "./request.ts";

/** Any web form or backend, signed per Standard Webhooks; `webhook-id` identifies the delivery. */
export function receiveForm({ source, request, receivedAt, verifyFormSignature }: AdapterContext): Acceptance {
  verifyFormSignature(request);
  const platformLeadId = request.headers["webhook-id"] as string;
  if (platformLeadId.length > maxPlatformLeadIdLength) {
    throw new ValidationError(`webhook-id is limited to ${maxPlatformLeadIdLength} characters`, [
      { path: "webhook-id", message: "too long" },
    ]);
  }
  const fields = source.mapFields(parseFormFields(request));
  assertIdentifiable(fields, { defaultCountry: source.phoneCountry });
  const receipt = { source: source.name, platformLeadId, receivedAt, test: false };
  return { status: 202, body: { status: "accepted" }, messages: [{ kind: "lead", receipt, fields, attribution: {} }] };
}
