/**
 * TensorFlow.js backend selection for cairn's ML toolkit (see Backend.ts), and the switch
 * between fused kernels and their stock-op reference.
 */
export * from "./Backend.js"
export { fusedKernelsEnabled, setFusedKernels } from "./FusedKernels.js"
export * from "./TensorValues.js"
