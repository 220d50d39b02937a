/**
 * Who a generated lead is: an email and a phone unique to the run and the case, written the many
 * ways platforms write them, or invalid on purpose. The oracle decides what is storable.
 */
import fc from "fast-check";
import type { CaseTag } from "./fuzz-plan.ts";
import { anyText, sometimes } from "./fuzz-values.ts";

export type EmailSpec =
  | { form: "clean" | "shouted" | "padded" }
  /** Random text before the unique part: valid or not, the oracle says. */
  | { form: "local"; local: string }
  | { form: "invalid"; pattern: number };
export type PhoneSpec =
  | { form: "e164" | "spaced" | "national" | "dotted" | "digits" }
  | { form: "invalid"; text: string };

export interface IdentitySpec {
  email?: EmailSpec;
  phone?: PhoneSpec;
  /** Which built-in name carries each (index into the platform's list). */
  emailName: number;
  phoneName: number;
  /** A country field, which decides how a phone without +<country code> is read. */
  country?: string;
}

const invalidEmails = [
  (unique: string) => `no-at-sign-${unique}`,
  (unique: string) => `@${unique}.example`,
  (unique: string) => `${unique}@`,
  (unique: string) => `${unique}@@fuzz.example`,
  (unique: string) => `sp ace-${unique}@fuzz.example`,
  (unique: string) => `${unique}@fuzz`,
  (unique: string) => `.${unique}@fuzz.example`,
  (unique: string) => `${unique}@例え.jp`,
] as const;

const emailSpec: fc.Arbitrary<EmailSpec> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("clean", "shouted", "padded").map((form) => ({ form })) },
  { weight: 2, arbitrary: anyText(12).map((local) => ({ form: "local" as const, local })) },
  {
    weight: 2,
    arbitrary: fc
      .integer({ min: 0, max: invalidEmails.length - 1 })
      .map((pattern) => ({ form: "invalid" as const, pattern })),
  },
);

const phoneSpec: fc.Arbitrary<PhoneSpec> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("e164", "spaced", "national", "dotted", "digits").map((form) => ({ form })) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom("12", "000", "+999 123", "+", "n/a"),
        anyText(10).filter((text) => !/\d/.test(text)),
      )
      .map((text) => ({ form: "invalid" as const, text })),
  },
);

/** Mostly storable leads, some with only a phone, some with nothing valid at all. */
export const identitySpec: fc.Arbitrary<IdentitySpec> = fc.record(
  {
    email: fc.option(emailSpec, { freq: 6, nil: undefined }),
    phone: fc.option(phoneSpec, { freq: 2, nil: undefined }),
    emailName: fc.nat(7),
    phoneName: fc.nat(7),
    country: sometimes(fc.constantFrom("US", "us", " US ", "GB", "France", "CA"), 8),
  },
  { requiredKeys: ["emailName", "phoneName"] },
);

/** A clean identity: a valid email, and sometimes a valid phone (for leads from several sources). */
export const cleanIdentity = (withPhone: boolean, form: "clean" | "shouted" | "padded"): IdentitySpec => ({
  email: { form },
  ...(withPhone ? { phone: { form: "e164" } } : {}),
  emailName: 0,
  phoneName: 0,
});

export function emailFor(tag: CaseTag, spec: EmailSpec): string {
  const unique = `fz${tag.index}.${tag.run}`;
  const domain = `fuzz-${tag.run}.example`;
  switch (spec.form) {
    case "clean":
      return `${unique}@${domain}`;
    case "shouted":
      return `${unique}@${domain}`.toUpperCase();
    case "padded":
      return ` \t${unique}@${domain}\u00A0`;
    case "local":
      return `${spec.local}.${unique}@${domain}`;
    case "invalid":
      return (invalidEmails[spec.pattern] ?? invalidEmails[0])(unique);
  }
}

const areaCodes = ["212", "312", "617", "646", "718", "773", "917", "305", "702", "808"];

/** A valid US number of its own for each case index (up to 80 million of them). */
export function phoneFor(tag: CaseTag, spec: PhoneSpec): string {
  if (spec.form === "invalid") return spec.text;
  const area = areaCodes[tag.index % areaCodes.length] as string;
  const rest = Math.floor(tag.index / areaCodes.length);
  const exchange = String(200 + (Math.floor(rest / 10_000) % 800));
  const line = String(rest % 10_000).padStart(4, "0");
  switch (spec.form) {
    case "e164":
      return `+1${area}${exchange}${line}`;
    case "spaced":
      return `+1 ${area} ${exchange} ${line}`;
    case "national":
      return `(${area}) ${exchange}-${line}`;
    case "dotted":
      return `${area}.${exchange}.${line}`;
    case "digits":
      return `${area}${exchange}${line}`;
  }
}

/** The built-in names each platform uses for the identity fields (docs/config-reference.md). */
export const identityNames = {
  form: {
    email: ["email", "Email", "EMAIL", "e-mail", "email_address", "Email Address", "work_email", "businessEmail"],
    phone: ["phone", "Phone Number", "mobile", "tel", "TELEPHONE", "work_phone", "mobile_number", "phone_number"],
    country: "country",
  },
  google: {
    email: ["EMAIL", "WORK_EMAIL"],
    phone: ["PHONE_NUMBER", "WORK_PHONE"],
    country: "COUNTRY",
  },
  meta: {
    email: ["email", "work_email"],
    phone: ["phone_number", "work_phone_number"],
    country: "country",
  },
} as const;

/** The identity's fields, named as the platform would name them. */
export function identityFields(
  tag: CaseTag,
  spec: IdentitySpec,
  platform: keyof typeof identityNames,
): [string, string][] {
  const names = identityNames[platform];
  const pick = (list: readonly string[], index: number) => list[index % list.length] as string;
  const fields: [string, string][] = [];
  if (spec.email) fields.push([pick(names.email, spec.emailName), emailFor(tag, spec.email)]);
  if (spec.phone) fields.push([pick(names.phone, spec.phoneName), phoneFor(tag, spec.phone)]);
  if (spec.country !== undefined) fields.push([names.country, spec.country]);
  return fields;
}

export function describeIdentity(spec: IdentitySpec): string {
  const parts = [
    spec.email && `email ${spec.email.form}`,
    spec.phone && `phone ${spec.phone.form}`,
    spec.country !== undefined && `country ${JSON.stringify(spec.country)}`,
  ].filter(Boolean);
  return parts.length ? parts.join(", ") : "no email or phone";
}
