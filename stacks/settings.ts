import { RetentionDays } from "aws-cdk-lib/aws-logs";
import { z } from "zod";

/**
 * How the stage is operated, read from the deploying shell (or SST's `.env*` files) like the
 * functions' settings in `functions.ts`; docs/deploy.md lists them with their defaults.
 */
export interface OperationsSettings {
  /** Who gets the alarm emails; no subscription when unset. */
  alarmEmail: string | undefined;
  /** Days every function's logs are kept. */
  logRetentionDays: RetentionDays;
  /** Requests per second, steady and burst, the HTTP API accepts before answering 429. */
  apiThrottle: { rate: number; burst: number };
}

export const operationsDefaults = {
  LOG_RETENTION_DAYS: 30,
  API_THROTTLE_RATE: 100,
  API_THROTTLE_BURST: 200,
} as const;

/** A setting is set but unusable: the deploy stops before anything reaches AWS. */
export class DeploySettingError extends Error {
  override readonly name = "DeploySettingError";
  readonly code = "invalid_deploy_setting";
}

/** The periods CloudWatch Logs accepts, except "never expire". */
const retentionPeriods = new Set<number>(
  Object.values(RetentionDays).filter((days) => typeof days === "number" && days !== RetentionDays.INFINITE),
);

/** An empty variable counts as unset, as in `deploySettings`. */
const unsetWhenEmpty = (value: unknown) => (value === "" ? undefined : value);

const settingsSchema = z.object({
  ALARM_EMAIL: z.preprocess(unsetWhenEmpty, z.email("is not an email address").optional()),
  LOG_RETENTION_DAYS: z.preprocess(
    unsetWhenEmpty,
    z.coerce
      .number()
      .refine((days) => retentionPeriods.has(days), `must be one of ${[...retentionPeriods].join(", ")}`)
      .default(operationsDefaults.LOG_RETENTION_DAYS),
  ),
  API_THROTTLE_RATE: z.preprocess(
    unsetWhenEmpty,
    z.coerce.number().positive("must be above 0").default(operationsDefaults.API_THROTTLE_RATE),
  ),
  API_THROTTLE_BURST: z.preprocess(
    unsetWhenEmpty,
    z.coerce
      .number()
      .int("must be a whole number")
      .positive("must be above 0")
      .default(operationsDefaults.API_THROTTLE_BURST),
  ),
});

export function operationsSettings(environment: NodeJS.ProcessEnv = process.env): OperationsSettings {
  const parsed = settingsSchema.safeParse(environment);
  if (!parsed.success) {
    // Names and rules only: the values may be personal (an email address).
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`);
    throw new DeploySettingError(`Deploy-time settings: ${problems.join("; ")} (see docs/deploy.md)`);
  }
  const settings = parsed.data;
  return {
    alarmEmail: settings.ALARM_EMAIL,
    logRetentionDays: settings.LOG_RETENTION_DAYS as RetentionDays,
    apiThrottle: { rate: settings.API_THROTTLE_RATE, burst: settings.API_THROTTLE_BURST },
  };
}

/** Where outbound messages are sent from and link to; docs/deploy.md, "Email and SMS". */
export interface OutboundSettings {
  /** The verified SES identity (domain or address) the outbound consumer may send email as; no email grant when unset. */
  sesIdentity: string | undefined;
  /** The ARN of the origination phone number, pool or sender ID it may send SMS from; no SMS grant when unset. */
  smsOriginationArn: string | undefined;
  /** The base of links in messages, when not the API's own URL (e.g. a custom domain). */
  publicUrl: string | undefined;
}

const outboundSchema = z.object({
  SES_IDENTITY: z.preprocess(
    unsetWhenEmpty,
    z
      .string()
      .regex(/^(?:[^\s@/*]+@)?[a-z0-9-]+(?:\.[a-z0-9-]+)+$/i, "must be a domain or an address (no wildcard)")
      .optional(),
  ),
  SMS_ORIGINATION_ARN: z.preprocess(
    unsetWhenEmpty,
    z
      .string()
      .regex(
        /^arn:aws[a-z-]*:sms-voice:[a-z0-9-]+:\d{12}:(?:phone-number|pool|sender-id)\/[A-Za-z0-9_/-]+$/,
        "must be the ARN of a phone number, pool or sender ID (arn:aws:sms-voice:<region>:<account>:phone-number/<id>)",
      )
      .optional(),
  ),
  PUBLIC_URL: z.preprocess(unsetWhenEmpty, z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional()),
});

export function outboundSettings(environment: NodeJS.ProcessEnv = process.env): OutboundSettings {
  const parsed = outboundSchema.safeParse(environment);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`);
    throw new DeploySettingError(`Deploy-time settings: ${problems.join("; ")} (see docs/deploy.md)`);
  }
  const settings = parsed.data;
  return {
    sesIdentity: settings.SES_IDENTITY,
    smsOriginationArn: settings.SMS_ORIGINATION_ARN,
    publicUrl: settings.PUBLIC_URL?.replace(/\/+$/, ""),
  };
}
