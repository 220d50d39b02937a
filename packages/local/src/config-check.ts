/**
 * `npm run config:check [-- --config DIR]`: checks every file and folder of the config registry in
 * DIR (or LEADFLOW_CONFIG_DIR), each one DIR lacks taken from config/, and prints each mistake as
 * file:line:column; exits 1 if there is any. `npm run config:schema` (`--write-schemas`) also
 * writes the JSON Schemas editors use to config/schema/.
 */
import { writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { configRegistry, hasSchema, jsonSchemaOf, schemaFileName } from "@leadflow/config";
import { configCheckReport, configDirOption, projectConfigDir } from "./config-files.ts";

const usage = `Usage: npm run config:check -- [--config DIR]

  --config DIR   check DIR, taking each file or folder it lacks from config/ (default: LEADFLOW_CONFIG_DIR or config/)
`;

const { values } = parseArgs({
  options: {
    config: { type: "string" },
    "write-schemas": { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}

const projectConfig = relative(process.cwd(), projectConfigDir) || ".";
const configDir = configDirOption(values.config) ?? projectConfig;

if (values["write-schemas"]) {
  for (const entry of Object.values(configRegistry).filter(hasSchema)) {
    const file = join(projectConfig, "schema", schemaFileName(entry));
    writeFileSync(file, jsonSchemaOf(entry));
    console.log(`wrote ${file}`);
  }
}

const report = configCheckReport(configDir, { fallbackDir: projectConfig, registry: configRegistry });
process.stdout.write(report.stdout);
process.stderr.write(report.stderr);
if (!report.ok) process.exitCode = 1;
