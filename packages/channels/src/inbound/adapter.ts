import type { CaptureMessage } from "./messages.ts";
import type { WebhookRequest } from "./request.ts";
import type { Source } from "./sources.ts";

export interface InboundSecrets {
  /**
   * Standard Webhooks secrets (`whsec_…`) by secret name: `FORM_SIGNING_SECRET`, and those form
   * sources name as their own. Each holds more than one value while it is being rotated.
   */
  formSigningSecrets: Readonly<Record<string, readonly string[]>>;
  metaAppSecret: string;
  /** The keys Google Ads may send as `google_key`; more than one while one is being rotated. */
  googleAdsWebhookKeys: readonly string[];
}

export interface AdapterContext {
  source: Source;
  request: WebhookRequest;
  receivedAt: string;
  secrets: InboundSecrets;
  /** Checks a form delivery's Standard Webhooks signature with its source's secret. */
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
