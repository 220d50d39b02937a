import { z } from "zod";
import { fieldRecord, fieldRecordSchema } from "../records.ts";

/**
 * Field mapping: the names forms and platforms use for a lead's fields, and where each lands.
 * Names are compared by `fieldKey`, so "First Name", "first_name", "firstName" and Google's
 * "FIRST_NAME" are the same field.
 */

export const profileFields = [
  "firstName",
  "lastName",
  "company",
  "jobTitle",
  "country",
  "region",
  "city",
  "postalCode",
  "timezone",
] as const;
export type ProfileField = (typeof profileFields)[number];

export const attributionFields = [
  "utm_source",
  "utm_medium",
  "utm_campaign",
  "utm_term",
  "utm_content",
  "gclid",
] as const;
export type AttributionField = (typeof attributionFields)[number];

export type FieldTarget =
  | "email"
  | "phone"
  | "fullName"
  | "consentEmail"
  | "consentSms"
  | ProfileField
  | AttributionField;

/** What a source's `fields:` entry may map a platform field to. */
export type FieldMappingTarget = FieldTarget | `custom.${string}` | "ignore";
export type FieldMapping = Readonly<Record<string, FieldMappingTarget>>;

/** Built-in names, most preferred first: `email` wins over `work_email` when a form sends both. */
const builtInAliases: Readonly<Record<FieldTarget, readonly string[]>> = {
  email: ["email", "emailaddress", "workemail", "businessemail"],
  phone: [
    "phone",
    "phonenumber",
    "mobile",
    "mobilephone",
    "mobilenumber",
    "telephone",
    "tel",
    "workphone",
    "workphonenumber",
  ],
  fullName: ["fullname", "name", "yourname"],
  firstName: ["firstname", "givenname", "fname"],
  lastName: ["lastname", "familyname", "surname", "lname"],
  company: ["company", "companyname", "organization", "organisation"],
  jobTitle: ["jobtitle", "title", "position"],
  country: ["country", "countrycode"],
  region: ["region", "state", "province"],
  city: ["city"],
  postalCode: ["postalcode", "postcode", "zipcode", "zip"],
  timezone: ["timezone", "tz"],
  consentEmail: ["consentemail", "emailconsent", "marketingconsent", "emailoptin", "acceptsmarketing"],
  consentSms: ["consentsms", "smsconsent", "smsoptin"],
  utm_source: ["utmsource"],
  utm_medium: ["utmmedium"],
  utm_campaign: ["utmcampaign"],
  utm_term: ["utmterm"],
  utm_content: ["utmcontent"],
  gclid: ["gclid"],
};

export const fieldTargets = Object.keys(builtInAliases) as [FieldTarget, ...FieldTarget[]];

interface AliasRule {
  target: FieldMappingTarget;
  /** Lower wins when several fields of one payload map to the same target. */
  rank: number;
}

const builtInRules: ReadonlyMap<string, AliasRule> = new Map(
  Object.entries(builtInAliases).flatMap(([target, names]) =>
    names.map((name, rank) => [fieldKey(name), { target: target as FieldTarget, rank }] as const),
  ),
);

export function fieldKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/** A delivery's fields under lead field names; what the webhook queues for the worker. */
export const MappedFieldsSchema = z.object({
  values: z.partialRecord(z.enum(fieldTargets), z.string()),
  /** Fields no rule claimed, under the name the platform sent. */
  custom: fieldRecordSchema(z.string()),
});
export type MappedFields = z.infer<typeof MappedFieldsSchema>;

/** Compiles a source's overrides once; the returned function maps one payload's fields. */
export function fieldMapper(overrides: FieldMapping = {}): (raw: Readonly<Record<string, string>>) => MappedFields {
  const rules = new Map(builtInRules);
  for (const [name, target] of Object.entries(overrides)) rules.set(fieldKey(name), { target, rank: -1 });

  return (raw) => {
    const chosen = new Map<FieldTarget, { name: string; value: string; rank: number }>();
    const custom = fieldRecord();
    for (const [name, rawValue] of Object.entries(raw)) {
      const value = rawValue.trim();
      if (value === "") continue;
      const rule = rules.get(fieldKey(name));
      if (!rule) custom[name] = value;
      else if (rule.target === "ignore") continue;
      else if (rule.target.startsWith("custom.")) custom[rule.target.slice("custom.".length)] = value;
      else {
        const target = rule.target as FieldTarget;
        const current = chosen.get(target);
        if (!current || rule.rank < current.rank) {
          if (current) custom[current.name] = current.value;
          chosen.set(target, { name, value, rank: rule.rank });
        } else custom[name] = value;
      }
    }
    const values: MappedFields["values"] = {};
    for (const [target, { value }] of chosen) values[target] = value;
    return { values, custom };
  };
}
