import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type FieldMapping,
  fieldMapper,
  fieldTargets,
  type MappedFields,
  type NormalizedLead,
  normalizeLead,
  parseYamlConfig,
} from "@leadflow/core";
import { z } from "zod";

export const sourceTypes = ["form", "meta", "google-ads"] as const;
export type SourceType = (typeof sourceTypes)[number];

const countryCode = z.string().regex(/^[A-Z]{2}$/, "an ISO 3166 two-letter country code, e.g. US");
const mappingTarget = z.union([
  z.enum(fieldTargets),
  z.literal("ignore"),
  z.string().regex(/^custom\.[A-Za-z0-9_.-]+$/, "a lead field, custom.<name> or ignore"),
]);

const SourceSchema = z.strictObject({
  type: z.enum(sourceTypes),
  /** Platform field name -> lead field, on top of the built-in names. */
  fields: z.record(z.string(), mappingTarget).default({}),
  phoneCountry: countryCode.optional(),
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
  mapFields: (raw: Readonly<Record<string, string>>) => MappedFields;
}

export type Sources = ReadonlyMap<string, Source>;

export function compileSources(config: SourcesConfig): Sources {
  return new Map(
    Object.entries(config.sources).map(([name, source]) => [
      name,
      {
        name,
        type: source.type,
        phoneCountry: source.phoneCountry ?? config.defaults.phoneCountry,
        mapFields: fieldMapper(source.fields as FieldMapping),
      },
    ]),
  );
}

export function parseSources(text: string, file = "config/sources.yaml"): Sources {
  return compileSources(parseYamlConfig(text, file, SourcesConfigSchema));
}

export function loadSources(configDir: string): Sources {
  const file = join(configDir, "sources.yaml");
  return parseSources(readFileSync(file, "utf8"), file);
}

/** Normalises a delivery's fields the way its source says, and adds the platform's ids. */
export function leadFromFields(
  source: Source,
  fields: MappedFields,
  attribution: Record<string, string>,
): NormalizedLead {
  const lead = normalizeLead(fields, { defaultCountry: source.phoneCountry });
  lead.attribution = { ...lead.attribution, ...attribution };
  return lead;
}
