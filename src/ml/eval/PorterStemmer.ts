/**
 * The Porter stemmer exactly as NLTK's `PorterStemmer()` runs it in its default
 * `NLTK_EXTENSIONS` mode, because that is what rouge_score calls when
 * `use_stemmer=True`.
 *
 * The `stemmer` npm package implements Martin Porter's frozen C version, which
 * differs from NLTK on real words that appear in model outputs: NLTK keeps a
 * table of irregular forms (dying → die, skies → sky), maps 4-letter -ies/-ied
 * to -ie (dies → die), turns y → i only after a consonant (enjoy stays enjoy),
 * applies -alli before -bli and re-runs step 2, and handles -logi and -fulli.
 * ROUGE scores move when any of those fire, so the rules are ported one for
 * one (same rule order, same "first matching suffix decides" behaviour) from
 * nltk/stem/porter.py 3.8. Input is expected in lower case, as rouge_score's
 * tokeniser produces it.
 */

type Condition = ((stem: string) => boolean) | null
type Rule = readonly [suffix: string, replacement: string, condition: Condition]

// Irregular forms: the word is mapped straight to its paradigm and skips the steps.
const IRREGULAR: ReadonlyMap<string, string> = new Map([
  ["sky", "sky"],
  ["skies", "sky"],
  ["dying", "die"],
  ["lying", "lie"],
  ["tying", "tie"],
  ["news", "news"],
  ["innings", "inning"],
  ["inning", "inning"],
  ["outings", "outing"],
  ["outing", "outing"],
  ["cannings", "canning"],
  ["canning", "canning"],
  ["howe", "howe"],
  ["proceed", "proceed"],
  ["exceed", "exceed"],
  ["succeed", "succeed"]
])

const isVowelLetter = (ch: string): boolean =>
  ch === "a" || ch === "e" || ch === "i" || ch === "o" || ch === "u"

// A 'y' is a consonant at the start of a word or after a vowel (Porter's definition).
const isConsonant = (word: string, i: number): boolean => {
  const ch = word[i]!
  if (isVowelLetter(ch)) return false
  if (ch === "y") return i === 0 ? true : !isConsonant(word, i - 1)
  return true
}

// m in [C](VC){m}[V]: the number of vowel→consonant transitions.
const measure = (stem: string): number => {
  let m = 0
  let previousVowel = false
  for (let i = 0; i < stem.length; i++) {
    const consonant = isConsonant(stem, i)
    if (consonant && previousVowel) m++
    previousVowel = !consonant
  }
  return m
}

const hasPositiveMeasure = (stem: string): boolean => measure(stem) > 0

const containsVowel = (stem: string): boolean => {
  for (let i = 0; i < stem.length; i++) if (!isConsonant(stem, i)) return true
  return false
}

// Condition *d.
const endsDoubleConsonant = (word: string): boolean =>
  word.length >= 2 && word[word.length - 1] === word[word.length - 2] && isConsonant(word, word.length - 1)

// Condition *o, with NLTK's extra case of a two-letter vowel-consonant stem.
const endsCvc = (word: string): boolean => {
  const n = word.length
  if (
    n >= 3 &&
    isConsonant(word, n - 3) &&
    !isConsonant(word, n - 2) &&
    isConsonant(word, n - 1) &&
    !"wxy".includes(word[n - 1]!)
  ) {
    return true
  }
  return n === 2 && !isConsonant(word, 0) && isConsonant(word, 1)
}

const withoutSuffix = (word: string, suffix: string): string =>
  suffix === "" ? word : word.slice(0, word.length - suffix.length)

// The first rule whose suffix matches decides, even when its condition fails:
// later rules are not tried (that is how the published algorithm reads).
const applyRuleList = (word: string, rules: ReadonlyArray<Rule>): string => {
  for (const [suffix, replacement, condition] of rules) {
    if (suffix === "*d" && endsDoubleConsonant(word)) {
      const stem = word.slice(0, -2)
      return condition === null || condition(stem) ? stem + replacement : word
    }
    if (word.endsWith(suffix)) {
      const stem = withoutSuffix(word, suffix)
      return condition === null || condition(stem) ? stem + replacement : word
    }
  }
  return word
}

const step1a = (word: string): string => {
  if (word.endsWith("ies") && word.length === 4) return withoutSuffix(word, "ies") + "ie"
  return applyRuleList(word, [
    ["sses", "ss", null],
    ["ies", "i", null],
    ["ss", "ss", null],
    ["s", "", null]
  ])
}

const step1b = (word: string): string => {
  if (word.endsWith("ied")) {
    return withoutSuffix(word, "ied") + (word.length === 4 ? "ie" : "i")
  }
  if (word.endsWith("eed")) {
    const stem = withoutSuffix(word, "eed")
    return measure(stem) > 0 ? stem + "ee" : word
  }
  let intermediate: string | undefined
  for (const suffix of ["ed", "ing"]) {
    if (word.endsWith(suffix)) {
      const candidate = withoutSuffix(word, suffix)
      if (containsVowel(candidate)) {
        intermediate = candidate
        break
      }
    }
  }
  if (intermediate === undefined) return word
  const last = intermediate[intermediate.length - 1]!
  return applyRuleList(intermediate, [
    ["at", "ate", null],
    ["bl", "ble", null],
    ["iz", "ize", null],
    ["*d", last, () => last !== "l" && last !== "s" && last !== "z"],
    ["", "e", (stem) => measure(stem) === 1 && endsCvc(stem)]
  ])
}

const step1c = (word: string): string =>
  applyRuleList(word, [["y", "i", (stem) => stem.length > 1 && isConsonant(stem, stem.length - 1)]])

const step2 = (word: string): string => {
  // NLTK applies -alli first and, when it fires, runs step 2 again on the result.
  if (word.endsWith("alli") && hasPositiveMeasure(withoutSuffix(word, "alli"))) {
    return step2(withoutSuffix(word, "alli") + "al")
  }
  return applyRuleList(word, [
    ["ational", "ate", hasPositiveMeasure],
    ["tional", "tion", hasPositiveMeasure],
    ["enci", "ence", hasPositiveMeasure],
    ["anci", "ance", hasPositiveMeasure],
    ["izer", "ize", hasPositiveMeasure],
    ["bli", "ble", hasPositiveMeasure],
    ["alli", "al", hasPositiveMeasure],
    ["entli", "ent", hasPositiveMeasure],
    ["eli", "e", hasPositiveMeasure],
    ["ousli", "ous", hasPositiveMeasure],
    ["ization", "ize", hasPositiveMeasure],
    ["ation", "ate", hasPositiveMeasure],
    ["ator", "ate", hasPositiveMeasure],
    ["alism", "al", hasPositiveMeasure],
    ["iveness", "ive", hasPositiveMeasure],
    ["fulness", "ful", hasPositiveMeasure],
    ["ousness", "ous", hasPositiveMeasure],
    ["aliti", "al", hasPositiveMeasure],
    ["iviti", "ive", hasPositiveMeasure],
    ["biliti", "ble", hasPositiveMeasure],
    ["fulli", "ful", hasPositiveMeasure],
    // The 'l' of -logi stays with the stem so that geo-, theo- behave like philo-.
    ["logi", "log", () => hasPositiveMeasure(word.slice(0, -3))]
  ])
}

const step3 = (word: string): string =>
  applyRuleList(word, [
    ["icate", "ic", hasPositiveMeasure],
    ["ative", "", hasPositiveMeasure],
    ["alize", "al", hasPositiveMeasure],
    ["iciti", "ic", hasPositiveMeasure],
    ["ical", "ic", hasPositiveMeasure],
    ["ful", "", hasPositiveMeasure],
    ["ness", "", hasPositiveMeasure]
  ])

const measureGt1 = (stem: string): boolean => measure(stem) > 1

const step4 = (word: string): string =>
  applyRuleList(word, [
    ["al", "", measureGt1],
    ["ance", "", measureGt1],
    ["ence", "", measureGt1],
    ["er", "", measureGt1],
    ["ic", "", measureGt1],
    ["able", "", measureGt1],
    ["ible", "", measureGt1],
    ["ant", "", measureGt1],
    ["ement", "", measureGt1],
    ["ment", "", measureGt1],
    ["ent", "", measureGt1],
    ["ion", "", (stem) => measure(stem) > 1 && (stem.endsWith("s") || stem.endsWith("t"))],
    ["ou", "", measureGt1],
    ["ism", "", measureGt1],
    ["ate", "", measureGt1],
    ["iti", "", measureGt1],
    ["ous", "", measureGt1],
    ["ive", "", measureGt1],
    ["ize", "", measureGt1]
  ])

// Unlike the other steps both -e rules are tried, so no rule list here.
const step5a = (word: string): string => {
  if (!word.endsWith("e")) return word
  const stem = word.slice(0, -1)
  const m = measure(stem)
  if (m > 1) return stem
  if (m === 1 && !endsCvc(stem)) return stem
  return word
}

const step5b = (word: string): string =>
  applyRuleList(word, [["ll", "l", () => measure(word.slice(0, -1)) > 1]])

/** Stems one word as NLTK 3.8 `PorterStemmer().stem(word)` does (it lower-cases first). */
export const stem = (word: string): string => {
  const irregular = IRREGULAR.get(word)
  if (irregular !== undefined) return irregular
  const lower = word.toLowerCase()
  if (word.length <= 2) return lower
  return step5b(step5a(step4(step3(step2(step1c(step1b(step1a(lower))))))))
}
