import { type CountryCode, parsePhoneNumberFromString } from "libphonenumber-js";
import { z } from "zod";
import { ValidationError } from "../errors.ts";
import { toFieldRecord } from "../records.ts";
import { attributionFields, type MappedFields, type ProfileField, profileFields } from "./fields.ts";
import { leadLimits, maxEmailLength } from "./limits.ts";
import { canonicalTimeZone } from "./timezone.ts";

/** A lead as captured, ready to store: identifiers normalised, nothing dropped. */
export interface NormalizedLead extends Partial<Record<ProfileField, string>> {
  email?: string;
  phone?: string;
  custom: Record<string, string>;
  attribution: Record<string, string>;
  consent: { email?: boolean; sms?: boolean };
}

export interface NormalizeOptions {
  /** Country assumed for phone numbers written without an international prefix. */
  defaultCountry?: string;
}

const emailSchema = z.email();

/**
 * Lower-cases the email, turns the phone into E.164, splits a full name, reads consent flags,
 * spells the time zone as IANA does. A value that fails its check (a `timezone` that names no
 * IANA zone included), or is too long for its field (`leadLimits`), is kept as a custom
 * field instead. Throws `ValidationError` when neither a valid email nor a valid phone remains.
 */
export function normalizeLead(mapped: MappedFields, options: NormalizeOptions = {}): NormalizedLead {
  const { values } = mapped;
  const custom = toFieldRecord(mapped.custom);
  const lead: NormalizedLead = { custom, attribution: {}, consent: {} };

  for (const field of profileFields) {
    const value = values[field];
    if (value === undefined || field === "timezone") continue;
    if (value.length > leadLimits.profileValueLength) custom[field] = value;
    else lead[field] = collapseSpaces(value);
  }
  const countryCode = countryCodeOf(values.country);
  if (countryCode) lead.country = countryCode;
  if (values.timezone !== undefined) {
    const zone = canonicalTimeZone(values.timezone);
    if (zone) lead.timezone = zone;
    else custom.timezone = values.timezone;
  }
  fillNamesFromFullName(lead, values.fullName);

  if (values.email !== undefined) {
    const email = validEmail(values.email);
    if (email) lead.email = email;
    else custom.email = values.email;
  }
  if (values.phone !== undefined) {
    const phone = toE164(values.phone, (countryCode ?? options.defaultCountry) as CountryCode | undefined);
    if (phone) lead.phone = phone;
    else custom.phone = values.phone;
  }
  for (const field of attributionFields) {
    const value = values[field];
    if (value === undefined) continue;
    if (value.length > leadLimits.attributionValueLength) custom[field] = value;
    else lead.attribution[field] = value;
  }
  readConsent(lead, "email", values.consentEmail);
  readConsent(lead, "sms", values.consentSms);

  if (lead.email === undefined && lead.phone === undefined) throw missingIdentity(mapped);
  return lead;
}

/**
 * What the webhook checks before it acknowledges: the lead has a valid email or, failing that,
 * a valid phone — exactly what `normalizeLead` will require. The email is checked first, so the
 * phone is only parsed when it is the lead's one identifier.
 */
export function assertIdentifiable(mapped: MappedFields, options: NormalizeOptions = {}): void {
  const { email, phone, country } = mapped.values;
  if (email !== undefined && validEmail(email)) return;
  const phoneCountry = (countryCodeOf(country) ?? options.defaultCountry) as CountryCode | undefined;
  if (phone !== undefined && toE164(phone, phoneCountry)) return;
  throw missingIdentity(mapped);
}

/** A phone number typed in a URL: a "+" left unencoded in a query string arrives as a space. */
export function phoneFromQuery(raw: string): string | undefined {
  return toE164(raw.trim().replace(/^(\d)/, "+$1"));
}

function missingIdentity({ values }: MappedFields): ValidationError {
  return new ValidationError("A lead needs a valid email or phone", [
    { path: "email", message: values.email === undefined ? "missing" : "not a valid email address" },
    { path: "phone", message: values.phone === undefined ? "missing" : "not a valid phone number" },
  ]);
}

function validEmail(raw: string): string | undefined {
  const email = raw.trim().toLowerCase();
  return email.length <= maxEmailLength && emailSchema.safeParse(email).success ? email : undefined;
}

/** "gb" and " GB " are GB; a country written out in full is kept as given. */
function countryCodeOf(raw: string | undefined): string | undefined {
  const trimmed = raw?.trim();
  return trimmed && /^[a-z]{2}$/i.test(trimmed) ? trimmed.toUpperCase() : undefined;
}

export function toE164(raw: string, country?: CountryCode): string | undefined {
  const parsed = parsePhoneNumberFromString(raw, country);
  return parsed?.isValid() ? parsed.number : undefined;
}

function fillNamesFromFullName(lead: NormalizedLead, fullName: string | undefined): void {
  if (!fullName || (lead.firstName && lead.lastName)) return;
  if (fullName.length > leadLimits.profileValueLength) {
    lead.custom.fullName = fullName;
    return;
  }
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
