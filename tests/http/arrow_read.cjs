// Reads an Arrow IPC stream (a file written from an HTTP answer) with the real Arrow reader,
// npm apache-arrow, and prints it as JSON: {"fields": [{"name", "type"}], "batches": n,
// "rows": [[cell, ...], ...]}. Each cell is written so Python can compare it exactly with the
// same query's JSON answer: integers and decimals as exact text, dates as days since 1970,
// times and timestamps as their raw count in the stream's unit, intervals as
// [months, days, nanoseconds], binary as hex, NULL as null.
//   node arrow_read.cjs <file>
"use strict";
const fs = require("fs");
const arrow = require("apache-arrow");

const T = arrow.Type;

/// The unscaled 128-bit integer of a decimal at `row`, as exact text with `scale` decimals.
function decimalText(values, row, scale) {
  let unscaled = 0n;
  for (let word = 3; word >= 0; word--) {
    unscaled = (unscaled << 32n) | BigInt(values[row * 4 + word] >>> 0);
  }
  if (unscaled >= 1n << 127n) unscaled -= 1n << 128n;
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, "0");
  if (scale > 0) digits = digits.slice(0, -scale) + "." + digits.slice(-scale);
  return (negative ? "-" : "") + digits;
}

/// A nested value (a list, struct or map as the reader gives it) as plain JSON: lists as
/// arrays, structs and maps as objects, 64-bit integers as text.
function plain(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return String(value);
  if (typeof value !== "object") return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString("hex");
  if (typeof value.toArray === "function" && !(value instanceof arrow.MapRow) &&
      !(value instanceof arrow.StructRow)) {
    return Array.from(value, plain);
  }
  const out = {};
  for (const [k, v] of Object.entries(value.toJSON())) out[k] = plain(v);
  return out;
}

function cell(type, data, vector, row) {
  if (!vector.isValid(row)) return null;
  if (type.typeId === T.List || type.typeId === T.Struct || type.typeId === T.Map ||
      type.typeId === T.FixedSizeList) {
    return plain(vector.get(row));
  }
  const values = data.values;
  switch (type.typeId) {
    case T.Int: return String(values[row]);
    case T.Float: return Number(values[row]);
    case T.Bool: return vector.get(row);
    case T.Utf8: case T.LargeUtf8: return vector.get(row);
    case T.Binary: case T.LargeBinary: case T.FixedSizeBinary:
      return Buffer.from(vector.get(row)).toString("hex");
    case T.Decimal: return decimalText(values, row, type.scale);
    case T.Date: return type.unit === arrow.DateUnit.DAY ? values[row] : String(values[row]);
    case T.Time: case T.Timestamp: return String(values[row]);
    case T.Interval: {
      const view = new DataView(values.buffer, values.byteOffset + row * 16, 16);
      return [view.getInt32(0, true), view.getInt32(4, true),
              String(view.getBigInt64(8, true))];
    }
    case T.Null: return null;
    default: throw new Error("unexpected type " + type);
  }
}

const bytes = fs.readFileSync(process.argv[2]);
const reader = arrow.RecordBatchReader.from(bytes);
reader.open();
const fields = reader.schema.fields.map((f) => ({ name: f.name, type: String(f.type) }));
const rows = [];
let batches = 0;
for (const batch of reader) {
  batches++;
  const columns = batch.schema.fields.map((f, c) => {
    const vector = batch.getChildAt(c);
    if (vector.data.length !== 1) throw new Error("one data per column per batch expected");
    return { type: f.type, data: vector.data[0], vector };
  });
  for (let r = 0; r < batch.numRows; r++) {
    rows.push(columns.map((col) => cell(col.type, col.data, col.vector, r)));
  }
}
process.stdout.write(JSON.stringify({ fields, batches, rows }));
