import { normalizeLead } from "@leadflow/core";
import type { Acceptance, AdapterContext } from "./adapter.ts";
import { parseFormFields } from "./request.ts";

/** Any web form or backend, signed per Standard Webhooks; `webhook-id` identifies the delivery. */
export function receiveForm({ source, request, receivedAt, verifyFormSignature }: AdapterContext): Acceptance {
  verifyFormSignature(request);
  const lead = normalizeLead(source.mapFields(parseFormFields(request)), { defaultCountry: source.phoneCountry });
  const platformLeadId = request.headers["webhook-id"] as string;
  return {
    status: 202,
    body: { status: "accepted" },
    messages: [{ kind: "lead", receipt: { source: source.name, platformLeadId, receivedAt, test: false }, lead }],
  };
}
