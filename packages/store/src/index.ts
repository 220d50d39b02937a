export { createEntities, type Entities } from "./entities.ts";
export { createLeadStore, type LeadStore } from "./leads.ts";
export { createTableInput, tableDefinition } from "./table.ts";
