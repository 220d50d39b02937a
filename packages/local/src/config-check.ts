/**
 * `npm run config:check`: checks every file in config/ (or LEADFLOW_CONFIG_DIR) and prints each
 * mistake as file:line:column; exits 1 if there is any. `-- --write-schemas` also writes the JSON
 * Schemas editors use to config/schema/.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { formatIssue } from "@leadflow/core";
import { checkConfigFiles, configFileNames, jsonSchemaOf, schemaFileName } from "./config-files.ts";

const { values } = parseArgs({ options: { "write-schemas": { type: "boolean", default: false } } });
const configDir = process.env.LEADFLOW_CONFIG_DIR ?? "config";

if (values["write-schemas"]) {
  for (const name of configFileNames) {
    const file = join(configDir, "schema", schemaFileName(name));
    writeFileSync(file, jsonSchemaOf(name));
    console.log(`wrote ${file}`);
  }
}

const issues = checkConfigFiles(configDir);
for (const issue of issues) console.error(formatIssue(issue));
if (issues.length > 0) {
  console.error(`\n${issues.length} mistake(s) in ${configDir}/`);
  process.exit(1);
}
console.log(`${configFileNames.map((name) => join(configDir, name)).join(", ")}: OK`);
