import { GetParameterCommand } from "@aws-sdk/client-ssm";
import {
  type DeliveryOutcome,
  deliverOnce,
  type OutboundMessage,
  type OutboundMessageInput,
  OutboundMessageSchema,
} from "@leadflow/channels";
import { checkBeforeSending, clock, ValidationError } from "@leadflow/core";
import { consumers, environmentNames } from "@leadflow/manifest";
import { createOutboundStore } from "@leadflow/store";
import { clients } from "./clients.ts";
import { nurtureStore } from "./nurture.ts";
import { once } from "./once.ts";
import { ConfigurationError, requiredSetting } from "./settings.ts";
import { queueSender } from "./sqs.ts";

/**
 * For handlers that send email or SMS (their manifest entry lists `sendsTo: ["outbound"]`): puts
 * the messages on the outbound queue, one SQS message each, so an SMS that fails is retried on
 * its own and never holds an email back. Throws a `ValidationError` (nothing sent) if any message
 * is invalid. Give each message a stable `id` (`outboundMessageId(...)`): the same id is sent once.
 */
export const outboundSender = once(() => {
  const send = queueSender(requiredSetting(environmentNames.queueUrl("outbound")), OutboundMessageSchema);
  return (messages: readonly OutboundMessageInput[]): Promise<void> => send(messages.map(checkedMessage));
});

function checkedMessage(input: OutboundMessageInput): OutboundMessage {
  const parsed = OutboundMessageSchema.safeParse(input);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, "An outbound message is invalid");
  return parsed.data;
}

const outboundDependencies = once(() => ({
  ledger: createOutboundStore({ client: clients.dynamodb(), tableName: requiredSetting(environmentNames.tableName) }),
  clients: {
    email: clients.sesv2(),
    sms: clients.sms(),
    // On AWS, SES publishes bounces, complaints, opens and clicks through this configuration set.
    emailConfigurationSet: process.env.SES_CONFIGURATION_SET || undefined,
  },
  // A claim outlives any invocation that holds it: the consumer's timeout.
  leaseSeconds: consumers.send.timeoutSeconds,
}));

/**
 * What the outbound consumer does with each message: send it unless its id was sent (see
 * `deliverOnce`). A marketing message is checked again first (`checkBeforeSending`): dropped if
 * its address was suppressed since it was planned, put back while its window is closed.
 */
export async function sendOnce(message: OutboundMessage): Promise<DeliveryOutcome | { status: "suppressed" }> {
  if (message.marketing) {
    const check = { suppression: nurtureStore().suppression, now: clock.now() };
    if ((await checkBeforeSending(message, check)) === "drop") return { status: "suppressed" };
  }
  return deliverOnce(message, outboundDependencies());
}

let publicUrlCache: { key: string; url: Promise<string> } | undefined;

/**
 * The base of links in messages, without a trailing slash: `PUBLIC_URL` (npm start sets it to the
 * local server), or on AWS the SSM parameter `PUBLIC_URL_PARAMETER` names, which the Api stack
 * writes with the API's URL. Read once per cold start. The function's manifest entry must say
 * `publicUrl: true`.
 */
export function publicUrl(): Promise<string> {
  const direct = process.env[environmentNames.publicUrl];
  // Only looked for when the URL itself is not given (npm start gives it; AWS gives the parameter).
  const parameter = direct ? undefined : process.env[environmentNames.publicUrlParameter];
  const key = `${direct}|${parameter}`;
  if (publicUrlCache?.key !== key) {
    const url = resolvePublicUrl(direct, parameter);
    url.catch(() => {
      if (publicUrlCache?.url === url) publicUrlCache = undefined;
    });
    publicUrlCache = { key, url };
  }
  return publicUrlCache.url;
}

async function resolvePublicUrl(direct: string | undefined, parameter: string | undefined): Promise<string> {
  if (direct) return withoutTrailingSlash(direct);
  if (parameter) {
    const { Parameter } = await clients.ssm().send(new GetParameterCommand({ Name: parameter }));
    if (Parameter?.Value) return withoutTrailingSlash(Parameter.Value);
    throw new ConfigurationError(`SSM parameter ${parameter} holds no URL`);
  }
  throw new ConfigurationError(
    `Neither ${environmentNames.publicUrl} nor ${environmentNames.publicUrlParameter} is set in this function's environment (its manifest entry needs publicUrl: true)`,
  );
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
