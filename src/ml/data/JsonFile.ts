/**
 * Report and manifest files: pretty JSON with a final newline, written atomically (temp file then
 * rename) like the datasets beside them.
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"

export const writeJsonFile = async (file: string, value: unknown): Promise<void> => {
  await fs.mkdir(path.dirname(file), { recursive: true })
  const tmp = `${file}.tmp-${process.pid}`
  await fs.writeFile(tmp, JSON.stringify(value, null, 2) + "\n")
  await fs.rename(tmp, file)
}
