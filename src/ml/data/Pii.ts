/**
 * PII scrubbing: replaces e-mail addresses, IP addresses, credit-card numbers and phone numbers
 * with typed placeholders (`[EMAIL]`, `[IPV4]`, `[IPV6]`, `[CREDIT_CARD]`, `[PHONE]`).
 *
 * Patterns are deliberately conservative, because false positives destroy training text (math
 * answers are full of digit runs): IP candidates must pass `node:net`'s parsers (and an IPv6 one
 * must contain a decimal digit); a card number is
 * a 13–19 digit run (spaces or dashes allowed between digits) that passes the Luhn check; a phone
 * number needs a `+` country code or the grouped North-American shape `(555) 123-4567` /
 * `555-123-4567`, and 10–15 digits in all. Kinds run in this order so an address inside an e-mail
 * is not scrubbed twice and a card number is not mistaken for a phone number.
 */
import { isIPv4, isIPv6 } from "node:net"

export const PII_KINDS = ["email", "ipv6", "ipv4", "credit_card", "phone"] as const
export type PiiKind = (typeof PII_KINDS)[number]

export const PII_PLACEHOLDER: Readonly<Record<PiiKind, string>> = {
  email: "[EMAIL]",
  ipv6: "[IPV6]",
  ipv4: "[IPV4]",
  credit_card: "[CREDIT_CARD]",
  phone: "[PHONE]"
}

interface Rule {
  /** A cheap test a text must pass before the full pattern runs over it. */
  readonly maybe: (text: string) => boolean
  readonly pattern: RegExp
  readonly accept: (match: string) => boolean
}

const HAS_DIGIT_RUN = /\d[ .()-]?\d[ .()-]?\d/

const RULES: Readonly<Record<PiiKind, Rule>> = {
  email: {
    maybe: (t) => t.includes("@"),
    pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g,
    accept: () => true
  },
  ipv6: {
    maybe: (t) => t.includes(":"),
    // hex groups and colons (with an optional embedded IPv4 tail); node:net decides
    pattern: /(?<![0-9A-Za-z:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![0-9A-Za-z:])/g,
    // a decimal digit is required so code such as `a::b` or `dead::beef` is left alone
    accept: (m) => isIPv6(m) && /\d/.test(m)
  },
  ipv4: {
    maybe: (t) => t.includes("."),
    pattern: /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])/g,
    accept: (m) => isIPv4(m)
  },
  credit_card: {
    maybe: (t) => HAS_DIGIT_RUN.test(t),
    pattern: /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g,
    accept: (m) => {
      const digits = m.replace(/\D/g, "")
      return digits.length >= 13 && digits.length <= 19 && luhn(digits)
    }
  },
  phone: {
    maybe: (t) => HAS_DIGIT_RUN.test(t),
    pattern: /(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}|(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4})(?!\w)/g,
    accept: (m) => {
      const n = m.replace(/\D/g, "").length
      return n >= 10 && n <= 15
    }
  }
}

/** Luhn checksum, as used by payment card numbers. */
export const luhn = (digits: string): boolean => {
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48
    if (i % 2 === 1) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
  }
  return sum % 10 === 0
}

export interface ScrubResult {
  readonly text: string
  /** Replacements made, by kind (kinds with none are absent). */
  readonly found: Partial<Record<PiiKind, number>>
}

/** Replaces every accepted match of the enabled kinds with its placeholder. */
export const scrubPii = (text: string, kinds: ReadonlyArray<PiiKind> = PII_KINDS): ScrubResult => {
  const found: Partial<Record<PiiKind, number>> = {}
  let out = text
  for (const kind of PII_KINDS) {
    if (!kinds.includes(kind)) continue
    const rule = RULES[kind]
    if (!rule.maybe(out)) continue
    out = out.replace(rule.pattern, (m) => {
      if (!rule.accept(m)) return m
      found[kind] = (found[kind] ?? 0) + 1
      return PII_PLACEHOLDER[kind]
    })
  }
  return { text: out, found }
}
