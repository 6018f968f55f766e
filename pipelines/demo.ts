/**
 * The shell demo of `pipelines/demo/cairn.yaml`, declared in TypeScript. Run it from the demo
 * workspace: `cairn run -C pipelines/demo -f ../demo.ts` (the build compiles it to JavaScript).
 */
import { definePipeline, param } from "../stages/index.js"

export default definePipeline({
  params: "demo/params.yaml",
  stages: {
    normalize: {
      cmd: "mkdir -p work && tr 'A-Z' 'a-z' < data/poem.txt | tr -cs 'a-z' '\\n' | sed '/^$/d' > work/words.txt",
      deps: ["data/poem.txt"],
      outs: ["work/words.txt"]
    },
    "top-words": {
      cmd: "sort work/words.txt | uniq -c | sort -k1,1nr -k2 | head -n ${report.top} > work/top.txt",
      deps: ["work/words.txt"],
      params: ["report.top"],
      outs: ["work/top.txt"],
      after: ["normalize"]
    },
    report: {
      uses: "concat",
      with: { inputs: ["work/top.txt"], output: "work/report.txt", header: param("report.title") },
      after: ["top-words"]
    }
  }
})
