import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type FieldMapping,
  fieldMapper,
  fieldTargets,
  leadLimits,
  type MappedFields,
  type NormalizedLead,
  normalizeLead,
  parseYamlConfig,
} from "@leadflow/core";
import { sourceSecretPattern } from "@leadflow/manifest";
import { z } from "zod";

export const sourceTypes = ["form", "meta", "google-ads"] as const;
export type SourceType = (typeof sourceTypes)[number];

const countryCode = z.string().regex(/^[A-Z]{2}$/, "an ISO 3166 two-letter country code, e.g. US");
const mappingTarget = z.union([
  z.enum(fieldTargets),
  z.literal("ignore"),
  z.string().regex(/^custom\.[A-Za-z0-9_.-]+$/, "a lead field, custom.<name> or ignore"),
]);

const SourceSchema = z
  .strictObject({
    type: z.enum(sourceTypes),
    /** Platform field name -> lead field, on top of the built-in names. */
    fields: z.record(z.string(), mappingTarget).default({}),
    phoneCountry: countryCode.optional(),
    signingSecret: z
      .string()
      .regex(sourceSecretPattern, "FORM_SIGNING_SECRET_<NAME>, in capitals, digits and underscores")
      .optional()
      .describe("form sources: the secret (env / SST secret) this form signs with, instead of FORM_SIGNING_SECRET"),
    alertOnArrival: z
      .boolean()
      .default(false)
      .describe("announce every lead this source creates (lead.arrived): speed-to-lead alerts a rep at once"),
  })
  .refine((source) => source.signingSecret === undefined || source.type === "form", {
    path: ["signingSecret"],
    message: "only form sources are signed with a signing secret",
  });

export const SourcesConfigSchema = z.strictObject({
  defaults: z.strictObject({ phoneCountry: countryCode.optional() }).default({}),
  sources: z.record(
    z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lower-case letters, digits and dashes"),
    SourceSchema,
  ),
});
export type SourcesConfig = z.infer<typeof SourcesConfigSchema>;

export interface Source {
  name: string;
  type: SourceType;
  phoneCountry: string | undefined;
  /** The secret a form source's deliveries are signed with. */
  signingSecret: string;
  /** A lead it creates is announced at once (`lead.arrived`), whatever its score. */
  alertOnArrival: boolean;
  mapFields: (raw: Readonly<Record<string, string>>) => MappedFields;
}

/** The secret form sources sign with unless they name their own. */
export const defaultSigningSecret = "FORM_SIGNING_SECRET";

export type Sources = ReadonlyMap<string, Source>;

export function compileSources(config: SourcesConfig): Sources {
  return new Map(
    Object.entries(config.sources).map(([name, source]) => [
      name,
      {
        name,
        type: source.type,
        phoneCountry: source.phoneCountry ?? config.defaults.phoneCountry,
        signingSecret: source.signingSecret ?? defaultSigningSecret,
        alertOnArrival: source.alertOnArrival,
        mapFields: fieldMapper(source.fields as FieldMapping),
      },
    ]),
  );
}

export function parseSources(text: string, file = "config/sources.yaml"): Sources {
  return compileSources(parseYamlConfig(text, file, SourcesConfigSchema));
}

/** The signing secrets form sources name besides the default one: the capture route loads them too. */
export function sourceSecretNames(sources: Sources): string[] {
  const named = [...sources.values()].map((source) => source.signingSecret);
  return [...new Set(named)].filter((name) => name !== defaultSigningSecret);
}

/** config/sources.yaml alone, for the stacks; handlers get it from `config()` in @leadflow/lambda. */
export function loadSources(configDir: string): Sources {
  const file = join(configDir, "sources.yaml");
  return parseSources(readFileSync(file, "utf8"), file);
}

/**
 * Normalises a delivery's fields the way its source says, and adds the platform's ids (one too
 * long for attribution is kept as a custom field, like any other over-long value).
 */
export function leadFromFields(
  source: Source,
  fields: MappedFields,
  attribution: Record<string, string>,
): NormalizedLead {
  const lead = normalizeLead(fields, { defaultCountry: source.phoneCountry });
  for (const [name, value] of Object.entries(attribution)) {
    if (value.length > leadLimits.attributionValueLength) lead.custom[name] = value;
    else lead.attribution[name] = value;
  }
  return lead;
}
