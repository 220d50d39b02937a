export { createEntities, type Entities } from "./entities.ts";
export { createLeadStore, type LeadStore, LeadTooLargeError } from "./leads.ts";
export { createTableInput, tableDefinition } from "./table.ts";
