import { type NormalizedLead, NotFoundError, PayloadTooLargeError, UnknownSourceError } from "@leadflow/core";
import type { Acceptance, AdapterContext, InboundSecrets } from "./adapter.ts";
import { receiveForm } from "./form.ts";
import { receiveGoogleAds } from "./google-ads.ts";
import type { CaptureMessage } from "./messages.ts";
import { answerMetaHandshake, loadMetaLead, receiveMeta } from "./meta.ts";
import type { MetaGraphClient } from "./meta-graph.ts";
import type { WebhookRequest } from "./request.ts";
import { standardWebhookVerifier } from "./signatures.ts";
import { leadFromFields, type Source, type Sources, type SourceType } from "./sources.ts";

export type { Acceptance, InboundSecrets } from "./adapter.ts";
export * from "./messages.ts";
export * from "./meta-graph.ts";
export type { WebhookRequest } from "./request.ts";
export * from "./signatures.ts";
export * from "./sources.ts";

/** Larger deliveries are refused with 413 before anything else is read. */
export const maxWebhookBytes = 256 * 1024;

const adapters: Readonly<Record<SourceType, (context: AdapterContext) => Acceptance>> = {
  form: receiveForm,
  meta: receiveMeta,
  "google-ads": receiveGoogleAds,
};

export interface InboundOptions {
  sources: Sources;
  secrets: InboundSecrets;
  now?: () => Date;
}

/** The webhook side of capture: verify, validate and turn a delivery into queue messages. */
export function createInbound({ sources, secrets, now = () => new Date() }: InboundOptions) {
  const verifyFormSignature = standardWebhookVerifier(secrets.formSigningSecrets);

  return {
    receive(sourceName: string, request: WebhookRequest): Acceptance {
      const source = sourceNamed(sources, sourceName);
      if (request.body.length > maxWebhookBytes) {
        throw new PayloadTooLargeError(`The body is over ${maxWebhookBytes / 1024} KB`, {
          limitBytes: maxWebhookBytes,
        });
      }
      const receivedAt = now().toISOString();
      return adapters[source.type]({ source, request, receivedAt, secrets, verifyFormSignature });
    },
  };
}
export type Inbound = ReturnType<typeof createInbound>;

/** `GET /webhooks/{source}`: the subscription check of platforms that have one (Meta). */
export function answerHandshake(
  sources: Sources,
  sourceName: string,
  request: Pick<WebhookRequest, "query">,
  metaVerifyToken: string,
): string {
  if (sourceNamed(sources, sourceName).type !== "meta") {
    throw new NotFoundError(`Source ${sourceName} has no subscription handshake`);
  }
  return answerMetaHandshake(request, metaVerifyToken);
}

function sourceNamed(sources: Sources, name: string): Source {
  const source = sources.get(name);
  if (!source) throw new UnknownSourceError(name);
  return source;
}

/** The lead a queued message stands for: carried in the message, or fetched from Meta. */
export function leadLoader(
  message: CaptureMessage,
  sources: Sources,
  graph: MetaGraphClient,
): () => NormalizedLead | Promise<NormalizedLead> {
  const source = () => sourceNamed(sources, message.receipt.source);
  if (message.kind === "lead") return () => leadFromFields(source(), message.fields, message.attribution);
  return () => loadMetaLead(message.meta, source(), graph);
}
