/**
 * The canary split: which arm (primary or canary) answers a request. An entity (the x-entity-id
 * header, or the policy's entity_field in the rows) is hashed with the model name into a bucket in
 * [0, 100), and goes to the canary when its bucket is below the percent: the same entity always
 * lands on the same arm, and raising the percent only moves entities from primary to canary. A
 * request without an entity is split at random.
 */

export type Arm = "primary" | "canary";

/** Longest entity id hashed; a longer header is refused rather than hashed in full on every request. */
export const MAX_ENTITY_LENGTH = 256;

/**
 * The request's entity: the header when present; else the entity field's value when every row
 * carries the same one (string or finite number, so 42 and "42" are one entity); else none. A
 * batch mixing entities cannot be sticky for all of them, so it is split at random per request.
 */
export function entityOf(rows: readonly unknown[], header: string | undefined, entityField: string | null): string | null {
  if (header !== undefined && header !== "") return header;
  if (entityField === null || rows.length === 0) return null;
  let shared: string | null = null;
  for (const row of rows) {
    const value = typeof row === "object" && row !== null ? (row as Record<string, unknown>)[entityField] : undefined;
    const text = typeof value === "string" && value !== "" ? value : typeof value === "number" && Number.isFinite(value) ? String(value) : null;
    if (text === null || (shared !== null && text !== shared)) return null;
    shared = text;
  }
  return shared;
}

const encoder = new TextEncoder();

/**
 * 32-bit FNV-1a over the UTF-8 bytes, then murmur3's fmix32 finaliser: FNV-1a alone mixes its last
 * bytes poorly into the high bits, so ids differing only in a trailing digit would cluster.
 */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of encoder.encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The entity's bucket in [0, 100) for this model. */
export function bucketOf(model: string, entity: string): number {
  return (hash32(`${model}\u0000${entity}`) / 2 ** 32) * 100;
}

/** Primary or canary for one request; `random` in [0, 1) is used only when there is no entity. */
export function chooseArm(model: string, canaryPercent: number, entity: string | null, random: () => number = randomUnit): Arm {
  if (canaryPercent <= 0) return "primary";
  if (canaryPercent >= 100) return "canary";
  const bucket = entity === null ? random() * 100 : bucketOf(model, entity);
  return bucket < canaryPercent ? "canary" : "primary";
}

/** Uniform in [0, 1) with 53 random bits, from the platform's CSPRNG. */
export function randomUnit(): number {
  const [a, b] = crypto.getRandomValues(new Uint32Array(2));
  return (a! * 2 ** 21 + (b! >>> 11)) / 2 ** 53;
}
