import type { CaptureMessage } from "./messages.ts";
import type { WebhookRequest } from "./request.ts";
import type { Source } from "./sources.ts";

export interface InboundSecrets {
  /** Standard Webhooks secrets (`whsec_…`); more than one while a secret is being rotated. */
  formSigningSecrets: readonly string[];
  metaAppSecret: string;
  googleAdsWebhookKey: string;
}

export interface AdapterContext {
  source: Source;
  request: WebhookRequest;
  receivedAt: string;
  secrets: InboundSecrets;
  verifyFormSignature: (request: WebhookRequest) => void;
}

/** A verified, valid delivery: what to answer the platform and what to enqueue first. */
export interface Acceptance {
  status: 200 | 202;
  body: Record<string, unknown>;
  messages: CaptureMessage[];
  /** Leads of a batch delivery refused while the others were accepted (listed in the body). */
  refused?: number;
}
