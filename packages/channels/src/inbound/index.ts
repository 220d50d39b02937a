import { createHash } from "node:crypto";
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

interface Adapter {
  receive: (context: AdapterContext) => Acceptance;
  /** Larger deliveries are refused with 413 before anything else is read. */
  maxBodyBytes: number;
}

const kilobytes = 1024;

/**
 * Form and Google bodies become one queued message each, so they are held to what SQS carries.
 * A Meta delivery queues only ids, and Meta sends up to 1,000 changes in one (about 263 KB).
 */
export const adapters: Readonly<Record<SourceType, Adapter>> = {
  form: { receive: receiveForm, maxBodyBytes: 256 * kilobytes },
  meta: { receive: receiveMeta, maxBodyBytes: 1024 * kilobytes },
  "google-ads": { receive: receiveGoogleAds, maxBodyBytes: 256 * kilobytes },
};

export interface InboundOptions {
  sources: Sources;
  secrets: InboundSecrets;
  now?: () => Date;
}

/** The webhook side of capture: verify, validate and turn a delivery into queue messages. */
export function createInbound({ sources, secrets, now = () => new Date() }: InboundOptions) {
  const verifiers = new Map(
    Object.entries(secrets.formSigningSecrets).map(([name, values]) => [name, standardWebhookVerifier(values)]),
  );
  const verifierOf = (source: Source) => {
    const verifier = verifiers.get(source.signingSecret);
    if (!verifier) throw new Error(`Secret ${source.signingSecret}, which source ${source.name} names, is not loaded`);
    return verifier;
  };

  return {
    receive(sourceName: string, request: WebhookRequest): Acceptance {
      const source = sourceNamed(sources, sourceName);
      const { receive, maxBodyBytes } = adapters[source.type];
      if (request.body.length > maxBodyBytes) {
        throw new PayloadTooLargeError(`The body is over ${maxBodyBytes / kilobytes} KB`, { limitBytes: maxBodyBytes });
      }
      const receivedAt = now().toISOString();
      const verifyFormSignature = (signed: WebhookRequest) => verifierOf(source)(signed);
      const acceptance = receive({ source, request, receivedAt, secrets, verifyFormSignature });
      return { ...acceptance, messages: acceptance.messages.map(withContentHash) };
    },
  };
}
export type Inbound = ReturnType<typeof createInbound>;

/**
 * Stamps a message's receipt with a digest of what it carries, so a repeated delivery whose
 * content changed can be told from a plain retry (the first one stays; the repeat is logged).
 */
function withContentHash(message: CaptureMessage): CaptureMessage {
  const content = message.kind === "lead" ? [message.fields, message.attribution] : message.meta;
  const contentHash = createHash("sha256").update(JSON.stringify(content)).digest("base64url").slice(0, 22);
  return { ...message, receipt: { ...message.receipt, contentHash } };
}

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
