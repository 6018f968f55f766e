// Compile-time checks of the TypeScript pipeline form; `tests/config/typed-pipeline.test.ts`
// runs tsc on this file. Each @ts-expect-error must be an error, or tsc fails.
import { definePipeline, param } from "../../stages/index.js"

export const ok = definePipeline({
  stages: {
    a: { cmd: "echo a > a.txt", outs: ["a.txt"] },
    b: { uses: "concat", with: { inputs: ["a.txt"], output: "b.txt", header: param("x.y") }, after: ["a"] }
  }
})

export const wrongStageReference = definePipeline({
  stages: {
    a: { cmd: "echo a > a.txt", outs: ["a.txt"] },
    // @ts-expect-error "nope" is not a stage of this pipeline
    b: { cmd: "cat a.txt > b.txt", after: ["nope"] }
  }
})

export const wrongParamType = definePipeline({
  stages: {
    // @ts-expect-error `inputs` must be a list of paths
    b: { uses: "concat", with: { inputs: 3, output: "b.txt" } }
  }
})

export const unknownBuiltin = definePipeline({
  stages: {
    // @ts-expect-error there is no built-in called "frobnicate"
    b: { uses: "frobnicate", with: {} }
  }
})
