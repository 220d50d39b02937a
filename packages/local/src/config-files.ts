import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SourcesConfigSchema } from "@leadflow/channels";
import { ConfigError, type ConfigIssue, parseYamlConfig, ScoringConfigSchema } from "@leadflow/core";
import { z } from "zod";

/** The marketer-owned files in config/, each with the schema it is checked against. */
export const configFiles = {
  "sources.yaml": SourcesConfigSchema,
  "scoring.yaml": ScoringConfigSchema,
} as const satisfies Record<string, z.ZodType>;

/** Every mistake in every config file, each with its file, line and column. */
export function checkConfigFiles(configDir: string): ConfigIssue[] {
  return Object.entries(configFiles).flatMap(([name, schema]) => {
    const file = join(configDir, name);
    try {
      parseYamlConfig(readFileSync(file, "utf8"), file, schema);
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return error.issues;
      return [{ file, line: 1, column: 1, path: "", message: (error as Error).message }];
    }
  });
}

/** The JSON Schema editors use for a config file (`# yaml-language-server: $schema=...`). */
export function jsonSchemaOf(name: keyof typeof configFiles): string {
  const schema = z.toJSONSchema(configFiles[name], { io: "input", unrepresentable: "any" });
  return `${JSON.stringify({ ...schema, title: `leadflow config/${name}` }, null, 2)}\n`;
}

export function schemaFileName(name: keyof typeof configFiles): string {
  return `${name.replace(/\.yaml$/, "")}.schema.json`;
}
