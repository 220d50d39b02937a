import { type CountryCode, parsePhoneNumberFromString } from "libphonenumber-js";
import { z } from "zod";
import { ValidationError } from "../errors.ts";
import { attributionFields, type MappedFields, type ProfileField, profileFields } from "./fields.ts";

const text = z.string().min(1).max(1024).optional();

const profileShape = {
  firstName: text,
  lastName: text,
  company: text,
  jobTitle: text,
  country: text,
  region: text,
  city: text,
  postalCode: text,
} satisfies Record<ProfileField, typeof text>;

/** A lead as captured, ready to store: identifiers normalised, nothing dropped. The queue contract. */
export const NormalizedLeadSchema = z
  .object({
    email: z.email().max(320).optional(),
    phone: z
      .string()
      .regex(/^\+[1-9]\d{6,14}$/, "phone must be E.164")
      .optional(),
    ...profileShape,
    custom: z.record(z.string(), z.string()),
    attribution: z.record(z.string(), z.string()),
    consent: z.object({ email: z.boolean().optional(), sms: z.boolean().optional() }),
  })
  .refine((lead) => lead.email !== undefined || lead.phone !== undefined, {
    message: "A lead needs a valid email or phone",
  });

export type NormalizedLead = z.infer<typeof NormalizedLeadSchema>;

export interface NormalizeOptions {
  /** Country assumed for phone numbers written without an international prefix. */
  defaultCountry?: string;
}

const emailSchema = z.email();

/**
 * Lower-cases the email, turns the phone into E.164, splits a full name, reads consent flags.
 * A value that fails its check is kept as a custom field under the name it arrived with.
 * Throws `ValidationError` when neither a valid email nor a valid phone remains.
 */
export function normalizeLead(mapped: MappedFields, options: NormalizeOptions = {}): NormalizedLead {
  const { values } = mapped;
  const custom = { ...mapped.custom };
  const lead: NormalizedLead = { custom, attribution: {}, consent: {} };

  for (const field of profileFields) {
    const value = values[field];
    if (value !== undefined) lead[field] = collapseSpaces(value);
  }
  if (lead.country && /^[a-z]{2}$/i.test(lead.country)) lead.country = lead.country.toUpperCase();
  fillNamesFromFullName(lead, values.fullName);

  const email = values.email?.toLowerCase();
  if (email !== undefined) {
    if (emailSchema.safeParse(email).success) lead.email = email;
    else custom.email = values.email as string;
  }
  if (values.phone !== undefined) {
    const phone = toE164(values.phone, phoneCountry(lead.country, options.defaultCountry));
    if (phone) lead.phone = phone;
    else custom.phone = values.phone;
  }
  for (const field of attributionFields) {
    const value = values[field];
    if (value !== undefined) lead.attribution[field] = value;
  }
  readConsent(lead, "email", values.consentEmail);
  readConsent(lead, "sms", values.consentSms);

  if (lead.email === undefined && lead.phone === undefined) {
    throw new ValidationError("A lead needs a valid email or phone", [
      { path: "email", message: values.email === undefined ? "missing" : "not a valid email address" },
      { path: "phone", message: values.phone === undefined ? "missing" : "not a valid phone number" },
    ]);
  }
  return lead;
}

export function toE164(raw: string, country?: CountryCode): string | undefined {
  const parsed = parsePhoneNumberFromString(raw, country);
  return parsed?.isValid() ? parsed.number : undefined;
}

function phoneCountry(leadCountry: string | undefined, fallback: string | undefined): CountryCode | undefined {
  const candidate = leadCountry && /^[A-Z]{2}$/.test(leadCountry) ? leadCountry : fallback;
  return candidate as CountryCode | undefined;
}

function fillNamesFromFullName(lead: NormalizedLead, fullName: string | undefined): void {
  if (!fullName || (lead.firstName && lead.lastName)) return;
  const [first, ...rest] = collapseSpaces(fullName).split(" ");
  lead.firstName ??= first;
  if (rest.length > 0) lead.lastName ??= rest.join(" ");
}

const truthy = new Set(["true", "yes", "y", "1", "on", "checked", "opt-in", "optin"]);
const falsy = new Set(["false", "no", "n", "0", "off", "unchecked", "opt-out", "optout"]);

function readConsent(lead: NormalizedLead, channel: "email" | "sms", value: string | undefined): void {
  if (value === undefined) return;
  const word = value.toLowerCase();
  if (truthy.has(word)) lead.consent[channel] = true;
  else if (falsy.has(word)) lead.consent[channel] = false;
  else lead.custom[`consent_${channel}`] = value;
}

function collapseSpaces(value: string): string {
  return value.replace(/\s+/g, " ").trim();
}
