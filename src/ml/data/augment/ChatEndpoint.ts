/**
 * Paraphrase and back-translation through an OpenAI-compatible chat endpoint
 * (`POST {baseUrl}/v1/chat/completions`: vLLM, llama.cpp server, Ollama, OpenAI, ...).
 *
 * Requests ask for temperature 0 and pass the seed, so a server that honours them answers the
 * same way twice; cairn cannot guarantee it, which is why augment's report says which records
 * came from the endpoint. The API key is read from an environment variable named in the params,
 * never from the params themselves (they are stored in run records).
 */
import { Data } from "effect"

export interface ChatEndpointConfig {
  readonly baseUrl: string
  readonly model: string
  readonly apiKey?: string | undefined
  readonly temperature: number
  readonly seed: number
  readonly timeoutMs: number
}

export class ChatEndpointFailed extends Data.TaggedError("ChatEndpointFailed")<{
  readonly url: string
  readonly reason: string
}> {
  override get message(): string {
    return `${this.url}: ${this.reason}`
  }
}

/** `http://host:8000` and `http://host:8000/v1` both address `.../v1/chat/completions`. */
export const chatCompletionsUrl = (baseUrl: string): string => {
  const base = baseUrl.replace(/\/+$/, "")
  return base.endsWith("/v1") ? `${base}/chat/completions` : `${base}/v1/chat/completions`
}

/** Sends one system + user exchange and returns the assistant's text. */
export const complete = async (config: ChatEndpointConfig, system: string, user: string): Promise<string> => {
  const url = chatCompletionsUrl(config.baseUrl)
  let response: Response
  try {
    response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(config.apiKey !== undefined && config.apiKey !== "" ? { authorization: `Bearer ${config.apiKey}` } : {})
      },
      body: JSON.stringify({
        model: config.model,
        messages: [{ role: "system", content: system }, { role: "user", content: user }],
        temperature: config.temperature,
        seed: config.seed
      }),
      signal: AbortSignal.timeout(config.timeoutMs)
    })
  } catch (error) {
    throw new ChatEndpointFailed({ url, reason: (error as Error).message })
  }
  if (!response.ok) {
    const body = await response.text().catch(() => "")
    throw new ChatEndpointFailed({ url, reason: `HTTP ${response.status} ${body.slice(0, 200)}` })
  }
  const json = (await response.json().catch(() => undefined)) as
    | { choices?: ReadonlyArray<{ message?: { content?: unknown } }> }
    | undefined
  const content = json?.choices?.[0]?.message?.content
  if (typeof content !== "string" || content.trim() === "") {
    throw new ChatEndpointFailed({ url, reason: "response has no choices[0].message.content" })
  }
  return content.trim()
}

const PARAPHRASE_SYSTEM =
  "Rewrite the user's text so it says exactly the same thing in different words. Keep every fact, number, name, code " +
  "snippet and formatting instruction. Reply with the rewritten text only."

const translateSystem = (language: string): string =>
  `Translate the user's text into ${language}. Keep numbers, names and code unchanged. Reply with the translation only.`

export const paraphrase = (config: ChatEndpointConfig, text: string): Promise<string> => complete(config, PARAPHRASE_SYSTEM, text)

/** Translates to the pivot language and back to English. */
export const backTranslate = async (config: ChatEndpointConfig, text: string, pivotLanguage: string): Promise<string> =>
  complete(config, translateSystem("English"), await complete(config, translateSystem(pivotLanguage), text))
