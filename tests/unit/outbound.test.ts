import { ConflictException, ThrottlingException, ValidationException } from "@aws-sdk/client-pinpoint-sms-voice-v2";
import { InternalServiceErrorException, MessageRejected, TooManyRequestsException } from "@aws-sdk/client-sesv2";
import {
  classifySendError,
  deliverOnce,
  type OutboundClients,
  type OutboundLedger,
  type OutboundMessage,
  type OutboundMessageInput,
  OutboundMessageSchema,
  OutboundRejectedError,
  OutboundUnavailableError,
  outboundMessageId,
  sendOutbound,
} from "@leadflow/channels";
import { describe, expect, it } from "vitest";

const metadata = { $metadata: {} };

function email(overrides: Partial<Extract<OutboundMessageInput, { channel: "email" }>> = {}): OutboundMessageInput {
  return {
    id: "alert-1-email",
    purpose: "speed-to-lead-alert",
    leadId: "lead-1",
    channel: "email",
    to: "ana@example.com",
    from: "Leadflow Alerts <alerts@example.com>",
    subject: "New hot lead: Ada Lovelace",
    text: "Accept: http://localhost:3000/alerts/abc",
    html: "<p>Accept</p>",
    headers: {
      "List-Unsubscribe": "<https://example.com/u/abc>",
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
    ...overrides,
  };
}

function sms(overrides: Partial<Extract<OutboundMessageInput, { channel: "sms" }>> = {}): OutboundMessageInput {
  return {
    id: "alert-1-sms",
    purpose: "speed-to-lead-alert",
    channel: "sms",
    to: "+14155550101",
    from: "+18005550100",
    text: "New hot lead. Accept: http://localhost:3000/alerts/abc",
    ...overrides,
  };
}

const parse = (message: unknown) => OutboundMessageSchema.safeParse(message);
const problems = (message: unknown) => {
  const result = parse(message);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
};

describe("OutboundMessageSchema", () => {
  it("takes an email with custom headers and an SMS; headers default to none", () => {
    expect(parse(email()).success).toBe(true);
    expect(parse(sms()).success).toBe(true);
    const { headers: _, ...withoutHeaders } = email() as Record<string, unknown>;
    expect(OutboundMessageSchema.parse(withoutHeaders)).toMatchObject({ headers: {} });
    expect(parse(email({ from: "alerts@example.com", html: undefined })).success).toBe(true);
  });

  it("refuses what SES or End User Messaging would refuse, or what could smuggle a header", () => {
    expect(problems(email({ subject: "Hello\r\nBcc: victim@example.com" }))).toEqual([
      "subject: must be a single line",
    ]);
    expect(problems(email({ headers: { "X-Note": "a\r\nBcc: x@example.com" } }))).toHaveLength(1);
    expect(problems(email({ headers: { "Bad:Name": "x" } }))).toHaveLength(1);
    expect(problems(email({ headers: { bcc: "x@example.com" } }))).toEqual(["headers.bcc: is set by leadflow itself"]);
    const many = Object.fromEntries(Array.from({ length: 16 }, (_, index) => [`X-H${index}`, "v"]));
    expect(problems(email({ headers: many }))).toEqual(["headers: SES takes at most 15 custom headers"]);
    expect(problems(email({ to: "not an address" }))).toHaveLength(1);
    expect(problems(email({ from: "Alerts <alerts@example.com" }))).toHaveLength(1);
    expect(problems(sms({ to: "4155550101" }))).toEqual(["to: is not an E.164 phone number (+14155550100)"]);
    expect(problems(sms({ text: "x".repeat(1601) }))).toHaveLength(1);
    expect(problems(email({ id: "alert 1/email" }))).toEqual(["id: may hold only letters, digits, _ and -"]);
    expect(problems(email({ purpose: "Speed To Lead" }))).toHaveLength(1);
    expect(parse({ ...sms(), channel: "fax" }).success).toBe(false);
  });
});

describe("outboundMessageId", () => {
  it("is the same for the same parts, differs otherwise, and is a valid message id", () => {
    const id = outboundMessageId("alert", "8b1f…", "sms");
    expect(outboundMessageId("alert", "8b1f…", "sms")).toBe(id);
    expect(outboundMessageId("alert", "8b1f…", "email")).not.toBe(id);
    expect(outboundMessageId("alert8b1f…", "sms")).not.toBe(outboundMessageId("alert", "8b1f…sms"));
    expect(parse(sms({ id })).success).toBe(true);
  });
});

describe("classifySendError", () => {
  it("makes a refused address or sender permanent, without the provider's text (it may quote the address)", () => {
    const rejected = classifySendError(
      "email",
      new MessageRejected({ message: "Email address is not verified: ana@example.com", ...metadata }),
    );
    expect(rejected).toBeInstanceOf(OutboundRejectedError);
    expect(rejected.permanent).toBe(true);
    expect(rejected.message).toBe("SES refused the email: MessageRejected");

    const optedOut = classifySendError(
      "sms",
      new ConflictException({ message: "+14155550101", Reason: "DESTINATION_PHONE_NUMBER_OPTED_OUT", ...metadata }),
    );
    expect(optedOut).toMatchObject({ permanent: true, code: "outbound_rejected" });
    expect(optedOut.message).toBe(
      "End User Messaging SMS refused the sms: ConflictException (DESTINATION_PHONE_NUMBER_OPTED_OUT)",
    );
    const invalid = classifySendError(
      "sms",
      new ValidationException({ message: "bad", Reason: "INVALID_PARAMETER", ...metadata }),
    );
    expect(invalid.permanent).toBe(true);
    const denied = Object.assign(new Error("not authorized on identity/example.com"), {
      name: "AccessDeniedException",
      $fault: "client",
    });
    expect(classifySendError("email", denied)).toBeInstanceOf(OutboundRejectedError);
  });

  it("retries throttling, quotas, 5xx and network failures", () => {
    const transient = [
      classifySendError("sms", new ThrottlingException({ message: "slow down", ...metadata })),
      classifySendError("email", new TooManyRequestsException({ message: "slow down", ...metadata })),
      classifySendError("email", new InternalServiceErrorException({ message: "oops", ...metadata })),
      classifySendError("sms", Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })),
      classifySendError(
        "email",
        Object.assign(new Error("quota"), { name: "LimitExceededException", $fault: "client" }),
      ),
    ];
    for (const error of transient) {
      expect(error).toBeInstanceOf(OutboundUnavailableError);
      expect(error.permanent).toBe(false);
    }
    expect(transient[3]?.message).toBe("End User Messaging SMS could not take the sms now: Error (ECONNREFUSED)");
  });
});

/** Clients that record the command inputs they are sent and answer like the providers. */
function recordingClients(failSms?: Error) {
  const sent: { channel: string; input: Record<string, unknown> }[] = [];
  const clients: OutboundClients = {
    email: {
      send: (async (command: { input: Record<string, unknown> }) => {
        sent.push({ channel: "email", input: command.input });
        return { MessageId: "ses-1" };
      }) as never,
    },
    sms: {
      send: (async (command: { input: Record<string, unknown> }) => {
        if (failSms) throw failSms;
        sent.push({ channel: "sms", input: command.input });
        return { MessageId: "sms-1" };
      }) as never,
    },
  };
  return { sent, clients };
}

describe("sendOutbound", () => {
  it("sends an email as SES v2 Simple content with its custom headers, and the message id as a tag", async () => {
    const { sent, clients } = recordingClients();
    const result = await sendOutbound(OutboundMessageSchema.parse(email()), clients);
    expect(result).toEqual({ providerMessageId: "ses-1" });
    expect(sent).toEqual([
      {
        channel: "email",
        input: {
          FromEmailAddress: "Leadflow Alerts <alerts@example.com>",
          Destination: { ToAddresses: ["ana@example.com"] },
          Content: {
            Simple: {
              Subject: { Data: "New hot lead: Ada Lovelace", Charset: "UTF-8" },
              Body: {
                Text: { Data: "Accept: http://localhost:3000/alerts/abc", Charset: "UTF-8" },
                Html: { Data: "<p>Accept</p>", Charset: "UTF-8" },
              },
              Headers: [
                { Name: "List-Unsubscribe", Value: "<https://example.com/u/abc>" },
                { Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click" },
              ],
            },
          },
          EmailTags: [
            { Name: "leadflow-message-id", Value: "alert-1-email" },
            { Name: "leadflow-purpose", Value: "speed-to-lead-alert" },
            { Name: "leadflow-lead-id", Value: "lead-1" },
          ],
        },
      },
    ]);
  });

  it("sends an email with the configuration set that publishes its bounces, complaints, opens and clicks", async () => {
    const { sent, clients } = recordingClients();
    await sendOutbound(OutboundMessageSchema.parse(email()), {
      ...clients,
      emailConfigurationSet: "test-leadflow-email",
    });
    expect(sent[0]?.input).toMatchObject({ ConfigurationSetName: "test-leadflow-email" });
  });

  it("sends an SMS with SendTextMessage from its origination identity", async () => {
    const { sent, clients } = recordingClients();
    await sendOutbound(OutboundMessageSchema.parse(sms()), clients);
    expect(sent).toEqual([
      {
        channel: "sms",
        input: {
          OriginationIdentity: "+18005550100",
          DestinationPhoneNumber: "+14155550101",
          MessageBody: "New hot lead. Accept: http://localhost:3000/alerts/abc",
          Context: { "leadflow-message-id": "alert-1-sms", "leadflow-purpose": "speed-to-lead-alert" },
        },
      },
    ]);
  });
});

/** An in-memory ledger with the semantics of the table's (see the store's outbound test). */
function memoryLedger(): OutboundLedger & { states: Map<string, string> } {
  const states = new Map<string, string>();
  return {
    states,
    async claim(message) {
      const state = states.get(message.id);
      if (state === "sent") return { status: "sent" };
      if (state === "sending") return { status: "busy" };
      states.set(message.id, "sending");
      return { status: "claimed", token: "t" };
    },
    async markSent(id) {
      states.set(id, "sent");
    },
    async release(id) {
      states.set(id, "failed");
    },
  };
}

describe("deliverOnce", () => {
  it("sends a message once: a second delivery of the same id is not sent", async () => {
    const { sent, clients } = recordingClients();
    const ledger = memoryLedger();
    const message: OutboundMessage = OutboundMessageSchema.parse(email());
    expect(await deliverOnce(message, { ledger, clients, leaseSeconds: 30 })).toEqual({
      status: "sent",
      providerMessageId: "ses-1",
      recorded: true,
    });
    expect(await deliverOnce(message, { ledger, clients, leaseSeconds: 30 })).toEqual({ status: "already-sent" });
    expect(sent).toHaveLength(1);
  });

  it("acknowledges a message it sent even when marking it sent fails: a retry would certainly send it again", async () => {
    const { sent, clients } = recordingClients();
    const ledger = memoryLedger();
    ledger.markSent = async () => {
      throw new Error("DynamoDB unreachable");
    };
    const outcome = await deliverOnce(OutboundMessageSchema.parse(sms()), { ledger, clients, leaseSeconds: 30 });
    expect(outcome).toEqual({ status: "sent", providerMessageId: "sms-1", recorded: false });
    expect(sent).toHaveLength(1);
  });

  it("gives the claim up when the send fails, so the retry sends; and waits while another delivery sends", async () => {
    const ledger = memoryLedger();
    const message = OutboundMessageSchema.parse(sms());
    const failing = recordingClients(new ThrottlingException({ message: "slow", ...metadata }));
    await expect(deliverOnce(message, { ledger, clients: failing.clients, leaseSeconds: 30 })).rejects.toBeInstanceOf(
      OutboundUnavailableError,
    );
    expect(ledger.states.get(message.id)).toBe("failed");

    const working = recordingClients();
    ledger.states.set(message.id, "sending");
    await expect(deliverOnce(message, { ledger, clients: working.clients, leaseSeconds: 30 })).rejects.toMatchObject({
      name: "OutboundBusyError",
      permanent: false,
    });
    ledger.states.set(message.id, "failed");
    await deliverOnce(message, { ledger, clients: working.clients, leaseSeconds: 30 });
    expect(working.sent).toHaveLength(1);
  });
});
