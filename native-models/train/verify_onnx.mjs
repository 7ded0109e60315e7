// Compare an exported ONNX model against the PyTorch reference batch written by
// export_unet.py (onnx_reference.json), using onnxruntime-node from the app.
//   node native-models/train/verify_onnx.mjs native-models/train/checkpoints/fashion/onnx_reference.json
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
const require = createRequire(path.resolve('package.json'));
const ort = require('onnxruntime-node');
const ref = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const sess = await ort.InferenceSession.create(process.argv[3] ?? ref.model);
const feeds = {};
for (const [name, v] of Object.entries(ref.inputs)) {
  const dtype = v.dtype ?? (name === 'x' ? 'float32' : 'int64');
  feeds[name] = dtype === 'float32'
    ? new ort.Tensor('float32', Float32Array.from(v.data), v.shape)
    : new ort.Tensor('int64', BigInt64Array.from(v.data.map(BigInt)), v.shape);
}
const t0 = performance.now();
const out = (await sess.run(feeds))[ref.output.name];
const ms = performance.now() - t0;
let maxDiff = 0, maxRef = 0;
for (let i = 0; i < out.data.length; i++) {
  maxDiff = Math.max(maxDiff, Math.abs(out.data[i] - ref.output.data[i]));
  maxRef = Math.max(maxRef, Math.abs(ref.output.data[i]));
}
// single-image timing
const one = {};
for (const [name, t] of Object.entries(feeds)) {
  const n = t.data.length / t.dims[0];
  one[name] = new ort.Tensor(t.type, t.data.slice(0, n), [1, ...t.dims.slice(1)]);
}
await sess.run(one);
const t1 = performance.now();
for (let i = 0; i < 20; i++) await sess.run(one);
const ms1 = (performance.now() - t1) / 20;
console.log(JSON.stringify({ model: process.argv[3] ?? ref.model, shape: out.dims, maxAbsDiff: maxDiff, maxAbsRef: maxRef,
  batchMs: +ms.toFixed(2), singleImageMs: +ms1.toFixed(2) }));
if (!(maxDiff < 1e-3)) process.exit(1);
