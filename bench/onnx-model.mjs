// A one-node ONNX model, BatchNormalization (opset 15, inference), written as protobuf bytes
// by hand so the benchmark needs neither the `onnx` Python package nor a committed binary.
// Field numbers are those of onnx/onnx.proto (ModelProto, GraphProto, NodeProto, ...).

const VARINT = 0;
const FIXED32 = 5;
const BYTES = 2;

function varint(value) {
  const out = [];
  let v = BigInt(value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}

const key = (field, wire) => varint((field << 3) | wire);
const int = (field, value) => [...key(field, VARINT), ...varint(value)];
const bytes = (field, payload) => [...key(field, BYTES), ...varint(payload.length), ...payload];
const string = (field, text) => bytes(field, [...new TextEncoder().encode(text)]);
const float = (field, value) => [...key(field, FIXED32), ...new Uint8Array(Float32Array.of(value).buffer)];

const FLOAT = 1; // TensorProto.DataType and AttributeProto.AttributeType both number FLOAT 1

function tensor(name, values) {
  return [
    ...int(1, values.length), // dims
    ...int(2, FLOAT), // data_type
    ...string(8, name),
    ...bytes(9, [...new Uint8Array(Float32Array.from(values).buffer)]), // raw_data
  ];
}

function valueInfo(name, shape) {
  const dims = shape.flatMap((d) => bytes(1, int(1, d))); // Dimension.dim_value
  const tensorType = [...int(1, FLOAT), ...bytes(2, dims)]; // elem_type, shape
  return [...string(1, name), ...bytes(2, bytes(1, tensorType))]; // name, type.tensor_type
}

/**
 * y = BatchNormalization(x, scale, bias, mean, var) with fixed `shape` ([N, C, ...], the
 * channel axis second as ONNX requires). Returns the serialized ModelProto.
 */
export function batchNormModel(shape, { scale, bias, mean, variance, epsilon = 1e-5 }) {
  const node = [
    ...['x', 'scale', 'bias', 'mean', 'var'].flatMap((name) => string(1, name)),
    ...string(2, 'y'),
    ...string(3, 'bn'),
    ...string(4, 'BatchNormalization'),
    ...bytes(5, [...string(1, 'epsilon'), ...float(2, epsilon), ...int(20, FLOAT)]),
  ];
  const graph = [
    ...bytes(1, node),
    ...string(2, 'batchnorm'),
    ...bytes(5, tensor('scale', scale)),
    ...bytes(5, tensor('bias', bias)),
    ...bytes(5, tensor('mean', mean)),
    ...bytes(5, tensor('var', variance)),
    ...bytes(11, valueInfo('x', shape)),
    ...bytes(12, valueInfo('y', shape)),
  ];
  return Uint8Array.from([
    ...int(1, 8), // ir_version
    ...string(2, 'batchnorm-wasm bench'),
    ...bytes(7, graph),
    ...bytes(8, int(2, 15)), // opset_import: default domain, version 15
  ]);
}
