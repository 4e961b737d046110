// Reads a vigil TensorBoard event file with the `tfrecord` package's RecordReader, which checks the masked
// CRC32C of every record's length and data, decodes each Event protocol buffer with the small decoder below,
// prints tag / step / value, and checks them against the events tests/io/event_fixture.hpp writes.
//
//   node read_events.mjs EVENT_FILE      exit 0 when everything matches, 1 otherwise
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { RecordReader } = require("tfrecord");

// Protocol buffers: a key varint (field << 3 | wire type) then the payload; returns [{field, wire, value}].
function decode(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields = [];
  let at = 0;
  const varint = () => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = bytes[at++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  };
  while (at < bytes.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    let value;
    if (wire === 0) value = BigInt.asIntN(64, varint());
    else if (wire === 1) { value = view.getFloat64(at, true); at += 8; }
    else if (wire === 5) { value = view.getFloat32(at, true); at += 4; }
    else if (wire === 2) { const n = Number(varint()); value = bytes.subarray(at, at + n); at += n; }
    else throw new Error(`unexpected wire type ${wire}`);
    fields.push({ field, wire, value });
  }
  return fields;
}
const get = (fields, n) => fields.find((f) => f.field === n)?.value;
const text = (bytes) => Buffer.from(bytes).toString("utf8");
const doubles = (bytes) => Array.from({ length: bytes.length / 8 }, (_, i) =>
  new DataView(bytes.buffer, bytes.byteOffset).getFloat64(i * 8, true));

// Event { wall_time = 1; step = 2; file_version = 3; summary = 5 }; Summary { value = 1 };
// Value { tag = 1; simple_value = 2; image = 4; histo = 5 }.
const events = [];
const reader = await RecordReader.create(process.argv[2]);
for (let record; (record = await reader.readRecord()) !== null; ) {
  const event = decode(new Uint8Array(record));
  const step = get(event, 2) ?? 0n;
  if (get(event, 3) !== undefined) {
    events.push({ kind: "file_version", value: text(get(event, 3)) });
    continue;
  }
  const value = decode(get(decode(get(event, 5)), 1));
  const tag = text(get(value, 1));
  if (get(value, 2) !== undefined) events.push({ kind: "scalar", tag, step, value: get(value, 2) });
  else if (get(value, 5) !== undefined) {
    const h = decode(get(value, 5));
    const counts = doubles(get(h, 7));
    events.push({ kind: "histogram", tag, step, value: [get(h, 1), get(h, 2), get(h, 3), get(h, 4), get(h, 5)],
                  total: counts.reduce((a, b) => a + b, 0) });
  } else if (get(value, 4) !== undefined) {
    const im = decode(get(value, 4));
    const png = get(im, 4);
    events.push({ kind: "image", tag, step, value: [Number(get(im, 1)), Number(get(im, 2)), Number(get(im, 3))],
                  signature: text(png.subarray(1, 4)) });
  }
}
await reader.close();
for (const e of events) console.log(e.kind, e.tag ?? "", String(e.step ?? ""), JSON.stringify(e.value ?? ""));

const f32 = (x) => Math.fround(x);
const expected = [
  { kind: "file_version", value: "brain.Event:2" },
  { kind: "scalar", tag: "loss", step: 0n, value: f32(0.5) },
  { kind: "scalar", tag: "loss", step: 1n, value: f32(0.25) },
  { kind: "scalar", tag: "loss", step: 2n, value: f32(0.125) },
  { kind: "scalar", tag: "lr", step: 300n, value: f32(0.001) },
  { kind: "histogram", tag: "weights", step: 2n, value: [-1, 2, 5, 2, 5.5], total: 5 },
  { kind: "image", tag: "sample", step: 2n, value: [1, 1, 3], signature: "PNG" },
];
const same = (a, b) => JSON.stringify(a, (_, v) => (typeof v === "bigint" ? `${v}n` : v)) ===
  JSON.stringify(b, (_, v) => (typeof v === "bigint" ? `${v}n` : v));
if (!same(events, expected)) {
  console.log("read_events: MISMATCH; expected:");
  for (const e of expected) console.log(" ", e.kind, e.tag ?? "", String(e.step ?? ""), JSON.stringify(e.value));
  process.exit(1);
}
console.log(`read_events: ${events.length} events OK (both CRCs of every record checked by tfrecord)`);
