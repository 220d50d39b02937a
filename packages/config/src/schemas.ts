import { z } from "zod";
import type { ConfigEntry } from "./entry.ts";

/** An entry with a schema: every file entry, and folder entries whose files are YAML. */
export type SchemaEntry = ConfigEntry & { schema: z.ZodType };

export function hasSchema<Entry extends ConfigEntry>(entry: Entry): entry is Entry & SchemaEntry {
  return entry.schema !== undefined;
}

/**
 * The JSON Schema editors use for an entry's files (`# yaml-language-server: $schema=...`):
 * `npm run config:schema` writes it to config/schema/.
 */
export function jsonSchemaOf(entry: SchemaEntry): string {
  const schema = z.toJSONSchema(entry.schema, { io: "input", unrepresentable: "any" });
  const title = `leadflow config/${entry.kind === "file" ? entry.name : `${entry.name}/${entry.pattern}`}`;
  return `${JSON.stringify({ ...schema, title }, null, 2)}\n`;
}

/**
 * `scoring.yaml` → `scoring.schema.json`; a folder → its `schemaFile` (`sequences/*.yaml` →
 * `sequence.schema.json`: the schema of one file), else `<folder>.schema.json`.
 */
export function schemaFileName(entry: ConfigEntry): string {
  if (entry.kind === "folder" && entry.schemaFile !== undefined) return entry.schemaFile;
  return `${entry.kind === "file" ? entry.name.replace(/\.[^.]+$/, "") : entry.name}.schema.json`;
}
