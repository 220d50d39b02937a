import { assertIdentifiable, PlatformLeadIdSchema, ValidationError } from "@leadflow/core";
import type { Acceptance, AdapterContext } from "./adapter.ts";
import { parseFormFields } from "./request.ts";

/** Any web form or backend, signed per Standard Webhooks; `webhook-id` identifies the delivery. */
export function receiveForm({ source, request, receivedAt, verifyFormSignature }: AdapterContext): Acceptance {
  verifyFormSignature(request);
  const id = PlatformLeadIdSchema.safeParse(request.headers["webhook-id"]);
  if (!id.success) {
    const issues = id.error.issues.map(({ message }) => ({ path: "webhook-id", message }));
    throw new ValidationError("webhook-id is not a usable delivery id", issues);
  }
  const platformLeadId = id.data;
  const fields = source.mapFields(parseFormFields(request));
  assertIdentifiable(fields, { defaultCountry: source.phoneCountry });
  // Whoever holds the secret issues the ids: a delivery replayed to another source sharing the
  // secret is the same delivery.
  const scope = `secret:${source.signingSecret}`;
  const receipt = { source: source.name, scope, platformLeadId, receivedAt, test: false };
  return { status: 202, body: { status: "accepted" }, messages: [{ kind: "lead", receipt, fields, attribution: {} }] };
}
