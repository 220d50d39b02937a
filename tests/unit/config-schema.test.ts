import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type ConfigEntry,
  configRegistry,
  folderFileNames,
  hasSchema,
  jsonSchemaOf,
  type SchemaEntry,
  schemaFileName,
} from "@leadflow/config";
import { describe, expect, it } from "vitest";

const withSchemas: SchemaEntry[] = Object.values<ConfigEntry>(configRegistry).filter(hasSchema);

describe("config/schema", () => {
  it.each(withSchemas.map((entry) => [entry.name, entry] as const))(
    "%s's JSON Schema is the one its zod schema emits (npm run config:schema)",
    (_name, entry) => {
      expect(readFileSync(`config/schema/${schemaFileName(entry)}`, "utf8")).toBe(jsonSchemaOf(entry));
    },
  );

  it("each config file names its schema for editors", () => {
    for (const entry of withSchemas) {
      const files =
        entry.kind === "file"
          ? [{ file: join("config", entry.name), schema: `./schema/${schemaFileName(entry)}` }]
          : folderFileNames(join("config", entry.name), entry.pattern).map((name) => ({
              file: join("config", entry.name, name),
              schema: `../schema/${schemaFileName(entry)}`,
            }));
      for (const { file, schema } of files) {
        expect(existsSync(file)).toBe(true);
        expect(readFileSync(file, "utf8")).toContain(`# yaml-language-server: $schema=${schema}`);
      }
    }
  });
});
