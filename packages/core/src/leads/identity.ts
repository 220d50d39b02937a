import type { IdentityConflict } from "./lead.ts";
import type { NormalizedLead } from "./normalize.ts";

export interface Identifier {
  kind: "email" | "phone";
  value: string;
}

/**
 * Uniqueness claims on emails and phones. Each claim is one item written with a condition, so
 * two workers racing for the same new email end with one owner.
 */
export interface IdentityClaims {
  /** The lead that owns each identifier, for those already claimed. */
  findOwners(identifiers: readonly Identifier[]): Promise<Map<string, string>>;
  /** Claims the identifier for `leadId` unless already claimed; returns the owner either way. */
  claim(identifier: Identifier, leadId: string): Promise<string>;
  /** Moves a claim from one lead to another, only if `from` still owns it. */
  move(identifier: Identifier, from: string, to: string): Promise<void>;
}

export interface ResolvedIdentity {
  leadId: string;
  /** The id was minted here and every identifier claimed for it: the lead is most likely not stored yet. */
  isNew: boolean;
  /** Identifiers of this capture that already belong to another lead; left where they are. */
  conflicts: IdentityConflict[];
}

export function identifierKey({ kind, value }: Identifier): string {
  return `${kind}:${value}`;
}

/** Email first: when a capture's email and phone point at two leads, the email decides. */
export function identifiersOf(lead: Pick<NormalizedLead, "email" | "phone">): Identifier[] {
  const identifiers: Identifier[] = [];
  if (lead.email) identifiers.push({ kind: "email", value: lead.email });
  if (lead.phone) identifiers.push({ kind: "phone", value: lead.phone });
  return identifiers;
}

/**
 * The same email or phone is the same lead. Joins the lead that owns any of the identifiers,
 * or claims them all for a new id. Losing a race for a new lead's identifier means another
 * worker is creating the same person: this capture joins that lead and hands over what it
 * had already claimed.
 */
export async function resolveIdentity(
  claims: IdentityClaims,
  identifiers: readonly Identifier[],
  newLeadId: () => string,
): Promise<ResolvedIdentity> {
  const owners = await claims.findOwners(identifiers);
  const existing = identifiers.map((identifier) => owners.get(identifierKey(identifier))).find(Boolean);
  let leadId = existing ?? newLeadId();
  let isNew = existing === undefined;
  const claimedHere: Identifier[] = [];
  const conflicts: IdentityConflict[] = [];

  for (const identifier of identifiers) {
    let owner = owners.get(identifierKey(identifier));
    if (owner === undefined) {
      owner = await claims.claim(identifier, leadId);
      if (owner === leadId) {
        claimedHere.push(identifier);
        continue;
      }
      if (isNew) {
        for (const claimed of claimedHere) await claims.move(claimed, leadId, owner);
        leadId = owner;
        isNew = false;
        continue;
      }
    }
    if (owner !== leadId) conflicts.push({ ...identifier, ownerLeadId: owner });
  }
  return { leadId, isNew, conflicts };
}
