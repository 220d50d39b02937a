import type { Capture, NormalizedLead } from "@leadflow/core";

let sequence = 0;

/** A capture as the ingest worker receives it; override what the test is about. */
export function capture(lead: Partial<NormalizedLead> = {}, receipt: Partial<Capture["receipt"]> = {}): Capture {
  sequence++;
  return {
    receipt: {
      source: "form",
      platformLeadId: `msg_${sequence}`,
      receivedAt: new Date(Date.UTC(2026, 10, 24, 9, 0, sequence)).toISOString(),
      test: false,
      ...receipt,
    },
    lead: { email: `person${sequence}@example.com`, custom: {}, attribution: {}, consent: {}, ...lead },
  };
}
