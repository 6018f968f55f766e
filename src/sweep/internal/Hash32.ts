/**
 * A stable 32-bit string hash for seeding generators and assigning shards: FNV-1a followed by
 * MurmurHash3's fmix32 finaliser. Plain FNV-1a's low bits depend on little more than the parity
 * of the characters, which would make `hash mod n` lopsided for small n; the finaliser spreads
 * every input bit over the whole word. Not for content addressing (see CanonicalJson).
 */
export const hash32 = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}
