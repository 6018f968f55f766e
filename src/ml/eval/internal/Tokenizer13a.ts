/**
 * sacrebleu's default `13a` tokeniser (mteval-v13a.pl, as used by WMT),
 * returning the token list that BLEU counts n-grams over.
 */
import { pySplit } from "./PythonText.js"

const RULES: ReadonlyArray<readonly [RegExp, string]> = [
  // Split off ASCII symbols: { | } ~  [ \ ] ^ _ `  space ! " # $ % &  ( ) * +  : ; < = > ? @  /
  [/([\x7B-\x7E\x5B-\x60\x20-\x26\x28-\x2B\x3A-\x40\x2F])/gu, " $1 "],
  // Period and comma unless preceded by a digit ...
  [/([^0-9])([.,])/gu, "$1 $2 "],
  // ... or unless followed by a digit.
  [/([.,])([^0-9])/gu, " $1 $2"],
  // A dash after a digit.
  [/([0-9])(-)/gu, "$1 $2 "]
]

export const tokenize13a = (line: string): Array<string> => {
  let text = line.replaceAll("<skipped>", "").replaceAll("-\n", "").replaceAll("\n", " ")
  if (text.includes("&")) {
    text = text.replaceAll("&quot;", '"').replaceAll("&amp;", "&").replaceAll("&lt;", "<").replaceAll("&gt;", ">")
  }
  text = ` ${text} `
  for (const [pattern, replacement] of RULES) text = text.replace(pattern, replacement)
  return pySplit(text)
}
