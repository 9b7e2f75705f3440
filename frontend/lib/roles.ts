/**
 * The signed-in user's role, read from the id token's `cognito:groups` claim exactly as the
 * API reads it (lambdas/ragline/access/roles.py): the highest of reader < editor < admin, and
 * reader for a user in none of them. The web app uses it to hide controls the API would refuse
 * (403) anyway; the API stays the one that enforces.
 */

export type Role = "reader" | "editor" | "admin";

const RANK: Record<Role, number> = { reader: 1, editor: 2, admin: 3 };

/** The groups claim as a list, whether it is a JSON array or a flattened string. */
export function groupsOf(claims: Record<string, unknown>): string[] {
  const value = claims["cognito:groups"];
  const items = Array.isArray(value) ? value.map(String) : typeof value === "string" ? value.split(/[\s,[\]"']+/) : [];
  return [...new Set(items.map((g) => g.trim()).filter(Boolean))];
}

export function roleOf(groups: string[]): Role {
  let role: Role = "reader";
  for (const group of groups) {
    if (group in RANK && RANK[group as Role] > RANK[role]) role = group as Role;
  }
  return role;
}

/** Whether a user with `role` may do what needs `needed`. */
export function allows(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}
