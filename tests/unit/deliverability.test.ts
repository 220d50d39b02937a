import { OutboundMessageSchema, providerTags, sendOutbound } from "@leadflow/channels";
import {
  type CompiledSequence,
  DeliverabilityMessageSchema,
  type Enrolment,
  type EventsMessage,
  handleSesEvent,
  type SesEvent,
  SesEventSchema,
} from "@leadflow/core";
import { beforeEach, describe, expect, it } from "vitest";
import { memoryNurtureStore } from "../helpers/memory-nurture.ts";

/**
 * SES events as event publishing sends them to SNS (docs.aws.amazon.com/ses/latest/dg/
 * event-publishing-retrieving-sns-examples.html): a permanent bounce or a complaint suppresses
 * the address and ends the lead's sequences; opens and clicks become lead events, once per message.
 */

const now = new Date("2026-03-02T10:00:00.000Z");
const sesMessageId = "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000";

/** The `mail` object SES puts in every event, with leadflow's tags as SES publishes them (arrays). */
function mail(tags: Record<string, string[]> = {}, to = "ada@example.com") {
  return {
    timestamp: "2026-03-02T09:58:00.000Z",
    source: "Acme <hello@acme.example>",
    sourceArn: "arn:aws:ses:us-east-1:123456789012:identity/acme.example",
    sendingAccountId: "123456789012",
    messageId: sesMessageId,
    destination: [to],
    headersTruncated: false,
    headers: [{ name: "To", value: to }],
    commonHeaders: { from: ["Acme <hello@acme.example>"], to: [to], subject: "Still looking?" },
    tags: {
      "ses:configuration-set": ["test-leadflow-email"],
      "ses:source-ip": ["192.0.2.0"],
      ...tags,
    },
  };
}

const leadflowTags: Record<string, string[]> = {
  "leadflow-message-id": ["nurture-enr1-0"],
  "leadflow-lead-id": ["lead-1"],
};

function bounce(bounceType: "Permanent" | "Transient", tags = leadflowTags, to = "Ada@Example.com") {
  return {
    eventType: "Bounce",
    bounce: {
      bounceType,
      bounceSubType: bounceType === "Permanent" ? "General" : "MailboxFull",
      bouncedRecipients: [
        { emailAddress: to, action: "failed", status: "5.1.1", diagnosticCode: "smtp; 550 5.1.1 user unknown" },
      ],
      timestamp: "2026-03-02T09:59:02.669Z",
      feedbackId: "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
      reportingMTA: "dsn; mta.example.com",
    },
    mail: mail(tags, to),
  };
}

function complaint(tags = leadflowTags) {
  return {
    eventType: "Complaint",
    complaint: {
      feedbackId: "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
      complaintSubType: null,
      complainedRecipients: [{ emailAddress: "ada@example.com" }],
      timestamp: "2026-03-02T09:59:02.669Z",
      userAgent: "Mozilla/5.0",
      complaintFeedbackType: "abuse",
      arrivalDate: "2026-03-02T09:59:00.000Z",
    },
    mail: mail(tags),
  };
}

function open(tags = leadflowTags) {
  return {
    eventType: "Open",
    mail: mail(tags),
    open: { ipAddress: "192.0.2.1", timestamp: "2026-03-02T09:59:30.000Z", userAgent: "Mozilla/5.0" },
  };
}

function click(tags = leadflowTags) {
  return {
    eventType: "Click",
    mail: mail(tags),
    click: {
      ipAddress: "192.0.2.1",
      link: "https://acme.example/pricing?utm_source=leadflow&email=ada%40example.com",
      linkTags: { samplekey0: ["samplevalue0"] },
      timestamp: "2026-03-02T09:59:45.000Z",
      userAgent: "Mozilla/5.0",
    },
  };
}

const sequence = {
  id: "cold-reactivation",
  digest: "d1",
  reentry: "never",
  exit: ["unsubscribed", "bounced", "replied"],
};
const sequences = {
  all: [sequence as unknown as CompiledSequence],
  byId: (id: string) => (id === sequence.id ? (sequence as unknown as CompiledSequence) : undefined),
};

function activeEnrolment(leadId: string): Enrolment {
  return {
    leadId,
    sequenceId: sequence.id,
    enrolmentId: `enr-${leadId}`,
    digest: sequence.digest,
    status: "active",
    stepIndex: 1,
    dueAt: "2026-03-05T10:00:00.000Z",
    enrolledAt: "2026-03-01T10:00:00.000Z",
    sent: [],
    version: 1,
  };
}

let memory: ReturnType<typeof memoryNurtureStore>;
let sent: EventsMessage[];
const leadsByEmail = new Map([["ada@example.com", "lead-by-email"]]);

function deps() {
  return {
    store: memory.store,
    sequences,
    now: () => now,
    findLeadIdByEmail: async (email: string) => leadsByEmail.get(email),
    sendEvents: async (message: EventsMessage) => {
      sent.push(message);
    },
  };
}

const parse = (body: unknown): SesEvent => DeliverabilityMessageSchema.parse(body);

beforeEach(() => {
  memory = memoryNurtureStore();
  sent = [];
  memory.enrolments.set("lead-1:cold-reactivation", activeEnrolment("lead-1"));
});

describe("parsing a deliverability message", () => {
  it("takes the SES event itself (raw delivery) and the SNS envelope around it alike", () => {
    const event = open();
    const envelope = {
      Type: "Notification",
      MessageId: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
      TopicArn: "arn:aws:sns:us-east-1:123456789012:test-leadflow-ses-events",
      Message: JSON.stringify(event),
      Timestamp: "2026-03-02T09:59:31.000Z",
      SignatureVersion: "1",
      Signature: "EXAMPLE",
      SigningCertURL: "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-example.pem",
      UnsubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
    };
    expect(parse(envelope)).toEqual(parse(event));
    expect(parse(envelope).mail.tags?.["leadflow-message-id"]).toEqual(["nurture-enr1-0"]);
  });

  it("reads an identity's feedback notification (notificationType) as the same event", () => {
    const { eventType, ...rest } = bounce("Permanent");
    expect(parse({ notificationType: eventType, ...rest }).eventType).toBe("Bounce");
  });

  it("refuses what is not an SES event: no mail.messageId, an envelope whose Message is not JSON", () => {
    expect(SesEventSchema.safeParse({ eventType: "Open", mail: {} }).success).toBe(false);
    expect(DeliverabilityMessageSchema.safeParse({ Type: "Notification", Message: "not json" }).success).toBe(false);
    expect(DeliverabilityMessageSchema.safeParse({ hello: "world" }).success).toBe(false);
  });
});

describe("bounces and complaints", () => {
  it("a permanent bounce suppresses the lower-cased address for the tagged lead and ends its sequences as bounced", async () => {
    const outcome = await handleSesEvent(deps(), parse(bounce("Permanent")));

    expect(outcome).toEqual({
      action: "suppressed",
      eventType: "Bounce",
      reason: "bounce",
      leadIds: ["lead-1"],
      exited: 1,
    });
    expect(memory.suppressions.get("email:ada@example.com")).toEqual({
      channel: "email",
      address: "ada@example.com",
      reason: "bounce",
      at: now.toISOString(),
      leadId: "lead-1",
    });
    expect(memory.enrolments.get("lead-1:cold-reactivation")).toMatchObject({
      status: "exited",
      exitReason: "bounced",
    });
    expect(sent).toEqual([]);
  });

  it("without leadflow's tags, the lead is found by the recipient's address", async () => {
    memory.enrolments.set("lead-by-email:cold-reactivation", activeEnrolment("lead-by-email"));
    const outcome = await handleSesEvent(deps(), parse(bounce("Permanent", {})));

    expect(outcome).toMatchObject({ action: "suppressed", leadIds: ["lead-by-email"], exited: 1 });
    expect(memory.suppressions.get("email:ada@example.com")?.leadId).toBe("lead-by-email");
  });

  it("an address nobody has is suppressed all the same", async () => {
    const outcome = await handleSesEvent(deps(), parse(bounce("Permanent", {}, "ghost@example.com")));

    expect(outcome).toMatchObject({ action: "suppressed", leadIds: [], exited: 0 });
    expect(memory.suppressions.get("email:ghost@example.com")).toMatchObject({ reason: "bounce" });
  });

  it("a transient bounce changes nothing", async () => {
    const outcome = await handleSesEvent(deps(), parse(bounce("Transient")));

    expect(outcome).toMatchObject({ action: "ignored", eventType: "Bounce", leadId: "lead-1" });
    expect(memory.suppressions.size).toBe(0);
    expect(memory.enrolments.get("lead-1:cold-reactivation")?.status).toBe("active");
  });

  it("a complaint suppresses the address (complaint) and ends the sequences as unsubscribed", async () => {
    const outcome = await handleSesEvent(deps(), parse(complaint()));

    expect(outcome).toMatchObject({ action: "suppressed", reason: "complaint", leadIds: ["lead-1"], exited: 1 });
    expect(memory.suppressions.get("email:ada@example.com")?.reason).toBe("complaint");
    expect(memory.enrolments.get("lead-1:cold-reactivation")).toMatchObject({ exitReason: "unsubscribed" });
  });
});

describe("opens and clicks", () => {
  it("an open is the lead's email_open, with a stable id per SES message and leadflow's message id", async () => {
    const outcome = await handleSesEvent(deps(), parse(open()));

    expect(outcome).toEqual({
      action: "engagement",
      eventType: "Open",
      eventId: `ses:${sesMessageId}:open`,
      leadId: "lead-1",
      messageId: "nurture-enr1-0",
    });
    expect(sent).toEqual([
      {
        leadId: "lead-1",
        receivedAt: now.toISOString(),
        events: [
          {
            id: `ses:${sesMessageId}:open`,
            type: "email_open",
            at: "2026-03-02T09:59:30.000Z",
            properties: { messageId: "nurture-enr1-0", sesMessageId },
          },
        ],
      },
    ]);
  });

  it("a second open of the same message sends the same event id (scoring counts it once)", async () => {
    await handleSesEvent(deps(), parse(open()));
    await handleSesEvent(deps(), parse({ ...open(), open: { timestamp: "2026-03-02T11:00:00.000Z" } }));

    expect(new Set(sent.map((message) => message.events[0]?.id))).toEqual(new Set([`ses:${sesMessageId}:open`]));
  });

  it("a click is the lead's email_click, with the link but not its query (it may carry tokens or an address)", async () => {
    await handleSesEvent(deps(), parse(click()));

    expect(sent[0]?.events[0]).toEqual({
      id: `ses:${sesMessageId}:click`,
      type: "email_click",
      at: "2026-03-02T09:59:45.000Z",
      properties: { messageId: "nurture-enr1-0", sesMessageId, link: "https://acme.example/pricing" },
    });
  });

  it("a click on the unsubscribe link is no engagement: nothing is sent to scoring", async () => {
    const unsubscribing = click();
    unsubscribing.click.link = "https://leads.acme.example/unsubscribe/q3V0aJ1xQ2Wb7eXk9LmN0A";
    expect(await handleSesEvent(deps(), parse(unsubscribing))).toMatchObject({ action: "ignored" });
    expect(sent).toEqual([]);
  });

  it("an open of a message with no tags goes to the recipient's lead; with no lead at all, nothing is sent", async () => {
    await handleSesEvent(deps(), parse(open({})));
    expect(sent[0]?.leadId).toBe("lead-by-email");

    sent = [];
    const unknown = { ...open({}), mail: mail({}, "nobody@example.com") };
    expect(await handleSesEvent(deps(), parse(unknown))).toMatchObject({ action: "ignored" });
    expect(sent).toEqual([]);
  });

  it("other events (Send, Delivery, DeliveryDelay) are ignored", async () => {
    for (const eventType of ["Send", "Delivery", "DeliveryDelay", "Reject"]) {
      expect(await handleSesEvent(deps(), parse({ eventType, mail: mail(leadflowTags) }))).toMatchObject({
        action: "ignored",
        eventType,
      });
    }
    expect(sent).toEqual([]);
    expect(memory.suppressions.size).toBe(0);
  });
});

describe("what the sender gives SES and End User Messaging to find the lead again", () => {
  function recording() {
    const inputs: Record<string, unknown>[] = [];
    const client = {
      send: async (command: { input: Record<string, unknown> }) => {
        inputs.push(command.input);
        return { MessageId: "provider-1" };
      },
    };
    return { inputs, client };
  }
  const base = { id: "nurture-enr1-0", purpose: "nurture-cold-reactivation", leadId: "lead-1" };

  it("an email carries the lead id tag and, when set, the configuration set; an SMS the lead id in its context", async () => {
    const email = recording();
    const sms = recording();
    const clients = { email: email.client, sms: sms.client, emailConfigurationSet: "test-leadflow-email" } as never;
    await sendOutbound(
      OutboundMessageSchema.parse({
        ...base,
        channel: "email",
        to: "ada@example.com",
        from: "hello@acme.example",
        subject: "Hi",
        text: "Hi",
      }),
      clients,
    );
    await sendOutbound(
      OutboundMessageSchema.parse({ ...base, channel: "sms", to: "+14155550101", from: "+14155550000", text: "Hi" }),
      clients,
    );

    expect(email.inputs[0]).toMatchObject({
      ConfigurationSetName: "test-leadflow-email",
      EmailTags: [
        { Name: providerTags.messageId, Value: "nurture-enr1-0" },
        { Name: providerTags.purpose, Value: "nurture-cold-reactivation" },
        { Name: sesTagName, Value: "lead-1" },
      ],
    });
    expect(sms.inputs[0]?.Context).toEqual({
      [providerTags.messageId]: "nurture-enr1-0",
      [providerTags.purpose]: "nurture-cold-reactivation",
      [sesTagName]: "lead-1",
    });
  });

  it("without a configuration set none is named, and a lead id SES would refuse as a tag is left out", async () => {
    const email = recording();
    const clients = { email: email.client, sms: email.client } as never;
    await sendOutbound(
      OutboundMessageSchema.parse({
        ...base,
        leadId: "lead:1",
        channel: "email",
        to: "ada@example.com",
        from: "hello@acme.example",
        subject: "Hi",
        text: "Hi",
      }),
      clients,
    );
    expect(email.inputs[0]?.ConfigurationSetName).toBeUndefined();
    expect(email.inputs[0]?.EmailTags).toHaveLength(2);
  });
});

const sesTagName = "leadflow-lead-id";
